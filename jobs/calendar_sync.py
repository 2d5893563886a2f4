"""Sync the ``[[calendars]]`` of the config, and the ``netzbot import-ics FILE|URL`` verb.

Each calendar (http(s) URL or local path) is fetched at start-up and then every
``sync_interval``; parsing runs in a worker thread (a 1.6 MB Google export takes ~0.6 s).
A calendar that cannot be fetched or read keeps its meetings as they were: the error is logged
with the calendar's name and the next attempt comes at the next interval.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from bot.access import network_id_by_key
from bot.calendar.errors import IcsImportError
from bot.calendar.ics import default_window, import_ics
from bot.calendar.ics_expand import Limits
from bot.cli_registry import CliVerb, register_verb
from bot.config import CalendarEntry, Config
from bot.net.errors import FetchError, TooLarge
from bot.net.guard import AddressPolicy
from bot.net.http import guarded_session, open_guarded, read_limited
from bot.redact import redact_text, redact_url
from bot.services import Services
from jobs.schedule import JobContext, JobSpec
from storage.db import Store
from storage.meetings_sync import SyncResult, configured_sources, remove_source, sync_calendar

log = logging.getLogger(__name__)

MAX_BYTES = 20_000_000
TIMEOUT = 30
MIN_INTERVAL = timedelta(minutes=1)


@dataclass
class CalendarState:
    last_attempt: datetime | None = None


def source_name(entry: CalendarEntry, index: int) -> str:
    return f"calendar:{entry.name or f'calendar-{index + 1}'}"


async def fetch(
    location: str,
    *,
    seconds: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    policy: AddressPolicy | None = None,
) -> bytes:
    """Bytes of an http(s) URL or a local file; IcsImportError with a reason otherwise.

    URLs go through the one guard of every outgoing fetch (:mod:`bot.net`): internal addresses
    are refused (also after a redirect or a DNS answer) unless ``policy`` allows them, and the
    body is read whole, however it arrives in pieces, up to ``max_bytes``."""
    if not location.startswith(("http://", "https://", "webcal://")):
        return await asyncio.to_thread(_read_file, location)
    url = "https://" + location[len("webcal://") :] if location.startswith("webcal") else location
    shown = redact_url(url)
    policy = policy or AddressPolicy()
    try:
        async with (
            guarded_session(
                policy,
                timeout=aiohttp.ClientTimeout(total=seconds),
                headers={"User-Agent": "netzbot calendar sync"},
            ) as session,
            open_guarded(session, url, policy) as response,
        ):
            if response.status != 200:
                raise IcsImportError(
                    f"HTTP {response.status} from {shown}", reason=f"HTTP {response.status}"
                )
            return await read_limited(response, max_bytes)
    except TooLarge as exc:
        raise IcsImportError(
            f"{shown} is larger than {max_bytes} bytes", reason="too large"
        ) from exc
    except FetchError as exc:
        raise IcsImportError(f"cannot fetch {shown}: {exc}", reason=str(exc)) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = redact_text(str(exc), [url]) or "timeout"
        raise IcsImportError(f"cannot fetch {shown}: {reason}", reason=reason) from exc


def _read_file(location: str) -> bytes:
    path = Path(location.removeprefix("file://")).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IcsImportError(f"cannot read {path}: {exc}", reason=exc.strerror or str(exc)) from exc


def import_into(
    store: Store,
    source: str,
    data: bytes,
    now: datetime,
    zone: str,
    network_id: int,
    limits: Limits | None = None,
) -> SyncResult:
    """Parse ``data`` and bring the meetings of ``source`` (of the network ``network_id``) in
    line with it (blocking). A calendar that cannot be read as a whole raises IcsImportError
    and changes nothing."""
    window = default_window(now)
    calendar = import_ics(data, *window, default_zone=zone, limits=limits)
    for reason in calendar.skipped:
        log.warning("calendar %s: %s", source, reason)
    with store.session() as session:
        result = sync_calendar(session, source, calendar, window, now, network_id)
    result.note = calendar.why_empty()
    result.skipped = list(calendar.skipped)
    return result


async def sync_one(jc: JobContext, entry: CalendarEntry, index: int, now: datetime) -> None:
    source = source_name(entry, index)
    zone = entry.timezone or jc.config.bot.timezone
    try:
        data = await fetch(entry.url, policy=AddressPolicy.from_config(jc.config))
        with jc.store.session() as session:
            key = jc.config.network_of_entry(entry)
            network_id = network_id_by_key(session, jc.config, key, now)
        result = await asyncio.to_thread(import_into, jc.store, source, data, now, zone, network_id)
    except IcsImportError as exc:
        log.error("calendar sync failed calendar=%s error=%s", source, exc)
        return
    log.info("calendar synced calendar=%s %s", source, result)


def first_sync_event(services: Services) -> asyncio.Event:
    """Set once every configured calendar has been tried after start-up, so that the first
    ``/termine`` (e.g. piped into ``netzbot console``) already shows the calendar's meetings."""
    return services.calendar_first_sync


async def tick(jc: JobContext, now: datetime) -> None:
    states = jc.services.calendar_sync
    try:
        for index, entry in enumerate(jc.config.calendars):
            state = states.setdefault(index, CalendarState())
            if state.last_attempt is not None and now - state.last_attempt < entry.sync_interval:
                continue
            state.last_attempt = now
            try:
                await sync_one(jc, entry, index, now)
            except Exception:  # one broken calendar must not stop the others
                log.exception("calendar sync crashed calendar=%s", source_name(entry, index))
        await asyncio.to_thread(_drop_unconfigured, jc, now)
    finally:
        first_sync_event(jc.services).set()


def _drop_unconfigured(jc: JobContext, now: datetime) -> None:
    """Meetings of a calendar that was taken out of the config disappear (``import:`` ones
    from ``netzbot import-ics`` stay)."""
    configured = {source_name(entry, i) for i, entry in enumerate(jc.config.calendars)}
    with jc.store.session() as session:
        for source in configured_sources(session):
            if source not in configured:
                result = remove_source(session, source, now)
                log.info("calendar no longer configured calendar=%s %s", source, result)


def interval(config: Config) -> timedelta:
    intervals = [entry.sync_interval for entry in config.calendars] or [timedelta(hours=1)]
    return max(MIN_INTERVAL, min(intervals))


JOBS = [JobSpec("calendar_sync", interval, tick)]


# -- netzbot import-ics FILE|URL ---------------------------------------------------------


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("location", metavar="FILE|URL", help="an .ics file or an http(s) URL")
    parser.add_argument(
        "--name",
        help="calendar name (default: the file name); importing again under the same name "
        "updates those meetings, and events gone from the file disappear. Imported meetings "
        "are kept when [[calendars]] change",
    )
    parser.add_argument(
        "--network",
        metavar="KEY",
        help="the network the meetings belong to (default: the first configured network)",
    )


def _run(args: argparse.Namespace) -> int:
    import sys

    from bot.clock import SystemClock
    from bot.config import load_config
    from storage import migrate
    from storage.db import Store

    config = load_config(args.config)  # a ConfigError is reported by bot.cli (exit 2)
    key = args.network or config.default_network_key
    if config.network_entry(key) is None:
        known = ", ".join(n.key for n in config.network_entries)
        print(f"netzbot import-ics: unknown network {key!r} (known: {known})", file=sys.stderr)
        return 2
    name = args.name or Path(args.location.rstrip("/")).stem or "import"
    source = f"import:{name}"
    store = Store(config.storage.url)
    try:
        migrate.upgrade(store)
        data = asyncio.run(fetch(args.location, policy=AddressPolicy.from_config(config)))
        now = SystemClock().now()
        with store.session() as session:
            network_id = network_id_by_key(session, config, key, now)
        result = import_into(store, source, data, now, config.bot.timezone, network_id)
    except IcsImportError as exc:
        print(f"netzbot import-ics: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    for note in result.skipped:
        print(f"netzbot import-ics: warning: {note}", file=sys.stderr)
    print(f"imported {args.location} as {source}: {result}")
    return 0


register_verb(
    CliVerb(
        name="import-ics",
        help="import meetings from an .ics file or URL",
        configure=_configure,
        run=_run,
    )
)
