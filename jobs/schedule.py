"""Scheduled duties. A module in ``jobs/`` exposes ``JOBS = [JobSpec(...)]``; this module finds
them and runs each tick in the app's one APScheduler ``AsyncIOScheduler``."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Config
from storage.db import Store

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    store: Store
    config: Config
    clock: Clock
    services: SimpleNamespace = field(default_factory=SimpleNamespace)
    completed: set[str] = field(default_factory=set)  # jobs that finished at least one tick


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
