"""Scheduled duties. A module in ``jobs/`` exposes ``JOBS = [JobSpec(...)]``; this module finds
them and runs each tick in the app's one APScheduler ``AsyncIOScheduler``."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Config
from bot.services import Services, build_services
from storage.db import Store

log = logging.getLogger(__name__)


class JobContext:
    """What a job tick works with. ``services``: the app's; without one (a test, a bench) the
    context builds its own with the same constructor (no app: no capability hooks)."""

    def __init__(
        self, store: Store, config: Config, clock: Clock, services: Services | None = None
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.services = services if services is not None else build_services(config)
        self.completed: set[str] = set()  # jobs that finished at least one tick


Tick = Callable[[JobContext, datetime], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    """``interval`` may depend on the config (e.g. ``[news] poll_interval``)."""

    name: str
    interval: timedelta | Callable[[Config], timedelta]
    tick: Tick
    run_at_start: bool = True

    def every(self, config: Config) -> timedelta:
        return self.interval(config) if callable(self.interval) else self.interval


def discover() -> list[JobSpec]:
    import jobs

    specs: list[JobSpec] = []
    for mod in pkgutil.iter_modules(jobs.__path__):
        if mod.name.startswith("_") or mod.name == "schedule":
            continue
        module = importlib.import_module(f"jobs.{mod.name}")
        specs.extend(getattr(module, "JOBS", []))
    return specs


async def run_tick(spec: JobSpec, jc: JobContext, after: Callable[[], None] | None = None) -> None:
    """Run one tick; a failing tick is logged and the job keeps its schedule. A tick still
    running at shutdown is cancelled (``scheduler.shutdown``): that is no failure, so it ends
    quietly instead of as an error with a traceback."""
    now = jc.clock.now()
    try:
        await spec.tick(jc, now)
    except asyncio.CancelledError:
        log.info("job stopped at shutdown job=%s", spec.name)
        return
    except Exception:
        log.exception("job failed job=%s now=%s", spec.name, now.isoformat())
    jc.completed.add(spec.name)
    if after is not None:
        after()


def install(
    scheduler: AsyncIOScheduler,
    jc: JobContext,
    specs: list[JobSpec],
    after: Callable[[], None] | None = None,
) -> None:
    for spec in specs:
        scheduler.add_job(
            run_tick,
            "interval",
            args=(spec, jc, after),
            seconds=max(1.0, spec.every(jc.config).total_seconds()),
            id=spec.name,
            name=spec.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now().astimezone() if spec.run_at_start else None,
        )
