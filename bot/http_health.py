"""What /healthz reports: connectors, last receive, outbox backlog, scheduler, database.

Connector convention (optional): ``connector.health() -> dict`` (plain or async) returning
``{"state": "up" | "down" | "starting", "last_ok": "<ISO time of the last successful poll or
receive>", …}``; any further keys are passed through. A connector without it is reported as
``"unknown"`` and never makes the check fail — unless it has a ``ready`` attribute (a bool or an
``asyncio.Event``), which gives "up" (ready) or "starting" (not yet, or reconnecting).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

from bot import metrics
from storage import outbox

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

CONNECTOR_STATES = ("up", "down", "starting", "unknown")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _state_from_ready(ready: object) -> str:
    """Without ``health()``: a ``ready`` flag (bool or asyncio.Event) still says up/starting."""
    if isinstance(ready, asyncio.Event):
        return "up" if ready.is_set() else "starting"
    if isinstance(ready, bool):
        return "up" if ready else "starting"
    return "unknown"


async def connector_health(platform: str, connector: object) -> dict[str, Any]:
    probe = getattr(connector, "health", None)
    info: dict[str, Any]
    if probe is None:
        info = {"state": _state_from_ready(getattr(connector, "ready", None))}
    else:
        try:
            result = probe()
            if inspect.isawaitable(result):
                result = await result
            info = {k: _iso(v) for k, v in dict(result).items()}
        except Exception as exc:
            log.warning("health probe failed platform=%s error=%s", platform, exc)
            info = {"state": "down", "error": f"health probe failed: {type(exc).__name__}"}
    if info.get("state") not in CONNECTOR_STATES:
        info["state"] = "unknown"
    last = metrics.LAST_RECEIVE.get(platform)
    if last is not None:
        info["last_receive"] = last.isoformat()
    return info


def scheduler_health(app: App) -> dict[str, Any]:
    """up | standby (paused, or this process is a follower: another one runs the jobs) |
    starting | down (should run but does not) | off (run_jobs=False)."""
    if not app.run_jobs:
        return {"state": "off", "jobs": []}
    leadership = getattr(app, "leadership", None)  # fail-over pairs (PostgreSQL lease)
    follower = leadership is not None and not getattr(leadership, "is_leader", True)
    code = app.scheduler.state
    jobs = []
    if code == STATE_RUNNING:
        for job in app.scheduler.get_jobs():
            jobs.append(
                {
                    "name": job.id,
                    "next_run": _iso(job.next_run_time),
                    "ran": job.id in app.job_context.completed,
                }
            )
    if code == STATE_RUNNING:
        state = "up"
    elif code == STATE_PAUSED or follower:
        state = "standby"
    else:
        state = "down" if app.started else "starting"
    report: dict[str, Any] = {"state": state, "jobs": jobs}
    if leadership is not None:
        report["role"] = "follower" if follower else "leader"
    return report


def _backlog(app: App) -> int:
    with app.store.session() as session:
        return outbox.backlog(session)


async def health_report(app: App) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body): 503 when a connector, the database or the scheduler is down."""
    connectors = {
        platform: await connector_health(platform, connector)
        for platform, connector in app.connectors.items()
    }
    body: dict[str, Any] = {"connectors": connectors, "scheduler": scheduler_health(app)}
    problems = [f"connector {p}" for p, info in connectors.items() if info["state"] == "down"]
    try:
        body["outbox_backlog"] = await asyncio.to_thread(_backlog, app)
        body["database"] = {"state": "up"}
    except Exception as exc:
        log.warning("health: database check failed error=%s", type(exc).__name__)
        body["outbox_backlog"] = None
        body["database"] = {"state": "down", "error": type(exc).__name__}
        problems.append("database")
    if body["scheduler"]["state"] == "down":
        problems.append("scheduler")
    if problems:
        body["status"] = "down"
    elif not app.started or any(i["state"] == "starting" for i in connectors.values()):
        body["status"] = "starting"
    else:
        body["status"] = "ok"
    body["problems"] = problems
    body["time"] = app.clock.now().isoformat()
    return (503 if problems else 200), body
