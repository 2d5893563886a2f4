"""The app's shared services: one typed object, built by one constructor, every hook installed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bot.clock import FixedClock
from bot.config import Config
from bot.services import Services, build_services
from jobs.schedule import JobContext
from storage.db import Store
from tests.support import Harness

ROOT = Path(__file__).resolve().parent.parent
HOOKS = (
    "membership",
    "choose_network",
    "membership_cache",
    "calendar_ics",
    "poll_result",
    "on_unknown_group",
    "on_poll_sent",
    "on_poll_answer",
    "on_message_posted",
    "on_button_pressed",
    "on_reaction",
)


def test_the_app_services_have_every_hook_a_capability_answers(harness: Harness) -> None:
    services = harness.app.services
    assert isinstance(services, Services)
    assert services.app is harness.app
    assert services.news_fetcher is not None and not services.owns_fetcher
    missing = [name for name in HOOKS if getattr(services, name) is None]
    assert missing == []
    # the job context shares the same object: the job and the commands use one fetcher
    assert harness.app.job_context.services is services


def test_every_field_is_declared_no_attribute_added_later(harness: Harness) -> None:
    declared = {f.name for f in dataclasses.fields(Services)}
    assert set(vars(harness.app.services)) == declared


def test_a_job_context_without_an_app_builds_its_own_services(store: Store, now) -> None:
    jc = JobContext(store, Config(), FixedClock(now))
    assert jc.services.app is None
    assert jc.services.owns_fetcher  # the feed job closes it after each poll
    assert all(getattr(jc.services, name) is None for name in HOOKS)
    assert build_services(Config()).news_fetcher is not jc.services.news_fetcher


def test_no_code_reads_services_with_a_getattr_default() -> None:
    pattern = re.compile(r"getattr\(\s*[\w.]*services\b|services\.__dict__|SimpleNamespace")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("bot", "handlers", "jobs", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
