"""The ``netzbot`` command line: console, run, db upgrade, check-config, and registered verbs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import pkgutil
import signal
import sys
import threading
from typing import TextIO

from bot import i18n
from bot.cli_registry import VERBS
from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.leader import AlreadyRunning
from bot.ops_common import add_config_option

log = logging.getLogger("netzbot")

EXIT_CONFIG = 2


def _load_extensions() -> None:
    """Capabilities register extra verbs when their modules are imported."""
    import handlers  # noqa: F401
    import jobs
    from bot import backup, doctor, opml  # noqa: F401 - operations verbs

    for mod in pkgutil.iter_modules(jobs.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"jobs.{mod.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netzbot",
        description="netzbot – der Bot für Bürgerrats-, Rathaus- und Bürgerhaushalt-Netzwerke.",
    )
    parser.add_argument(
        "--config", "-c", help="TOML file (default: $NETZBOT_CONFIG or ./netzbot.toml)"
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    console = sub.add_parser(
        "console", help="chat with netzbot in this terminal (or through a pipe)"
    )
    console.add_argument(
        "--demo", action="store_true", help="seed a sample network (meetings, documents)"
    )
    console.add_argument(
        "--als",
        "--as",
        dest="role",
        choices=("betreiber", "operator", "mitglied", "member"),
        default="betreiber",
        help="talk as the operator (default) or as a plain member, to see what members see",
    )
    sub.add_parser("run", help="run the bot on the configured messengers")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_verb", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply pending migrations")
    db_sub.add_parser("current", help="show the schema revision")
    sub.add_parser("check-config", help="validate the configuration and print a summary")
    for verb in VERBS.values():
        verb.configure(sub.add_parser(verb.name, help=verb.help))
    _accept_config_everywhere(sub)
    return parser


def _accept_config_everywhere(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``--config``/``-c`` before and after every verb (``netzbot run --config F``), nested too."""
    for parser in sub.choices.values():
        add_config_option(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_config_everywhere(action)


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_console(
    config: Config, demo: bool, stdin: TextIO, stdout: TextIO, as_member: bool = False
) -> int:
    from bot.app import App
    from bot.connectors.console import (
        EXIT_WORDS,
        ConsoleConnector,
        load_history,
        read_lines,
        save_history,
    )
    from bot.demo import seed_demo

    interactive = stdin.isatty() and stdout.isatty()
    connector = ConsoleConnector(stdout, interactive=interactive, as_member=as_member)
    app = App(config, connectors=[connector])
    await app.start()
    if demo:
        seed_demo(app.store, app.clock.now(), config.tz)
    stop = asyncio.Event()
    _install_signal_handlers(stop)
    answered = threading.Event() if interactive else None
    history = load_history() if interactive else None
    if interactive:
        welcome = "core.console.welcome_member" if as_member else "core.console.welcome"
        stdout.write(i18n.plain(config.bot.language, welcome) + "\n\n")
        stdout.flush()
    lines = await read_lines(stdin, answered)
    try:
        while not stop.is_set():
            getter = asyncio.ensure_future(lines.get())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if getter not in done:
                getter.cancel()
                break
            line = getter.result()
            if line is None or (interactive and line.strip().lower() in EXIT_WORDS):
                break
            if line.strip():
                await connector.feed(line)
            if answered is not None:
                answered.set()  # the reply is printed: the next prompt may come
            if connector.closed:  # nobody reads our answers any more
                break
        if not stop.is_set() and not connector.closed:
            await _finish_console(app)
    finally:
        save_history(history)
        await app.stop()
    return 0


async def _finish_console(app: object, wait_for_jobs: float = 60.0) -> None:
    """stdin closed: let every job finish its first tick, then deliver what is due."""
    from bot.app import App

    assert isinstance(app, App)
    if app.scheduler.running:
        names = {job.id for job in app.scheduler.get_jobs()}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_for_jobs
        while not names <= app.job_context.completed and loop.time() < deadline:
            await asyncio.sleep(0.05)
    while await app.delivery.drain_once():
        pass


async def run_bot(config: Config) -> int:
    from bot.app import App
    from bot.connectors.registry import build_connectors

    app = App(config)
    connectors = build_connectors(config, app)
    if not connectors:
        raise ConfigError(
            "no messenger is configured: set [telegram] token (or NETZBOT_TELEGRAM__TOKEN) or "
            "[signal] service and phone_number. To try netzbot without one: netzbot console --demo"
        )
    for connector in connectors:
        app.add_connector(connector)
    stop = asyncio.Event()
    _install_signal_handlers(stop)
    await app.start()
    log.info("netzbot running platforms=%s", ",".join(app.connectors))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await app.stop()
    return 0


def check_config(config: Config, source: str) -> int:
    from bot.connectors.registry import enabled_platforms

    print(f"✓ configuration is valid ({source})")
    print(
        f"  language={config.bot.language} timezone={config.bot.timezone} owners={len(config.bot.owners)}"
    )
    print(f"  storage={config.storage.url.split('@')[-1]}")
    print(f"  messengers={', '.join(enabled_platforms(config)) or 'none (console only)'}")
    from bot.opml import all_feeds

    feeds = len(all_feeds(config))  # [[feeds]] and those added in chat (in the database)
    print(
        f"  feeds={feeds} ({len(config.feeds)} from the config, {feeds - len(config.feeds)} "
        f"added in chat) calendars={len(config.calendars)}"
    )
    implicit = "" if config.networks else " (no [[networks]]: one network named after [bot] name)"
    print(f"  networks={len(config.network_entries)}{implicit}")
    for net in config.network_entries:
        print(f"    {net.key}: {net.name} — admins={len(net.admins)}")
        for chat in net.chats:
            print(f"      {chat}")
        if not net.chats:
            print("      (no chats in the config; groups are enabled with /netzwerk_freigeben)")
    if config.news.poll_interval.total_seconds() < 60:
        print("  ! [news] poll_interval below 1m: fine for tests, impolite to real servers")
    return 0


def main(argv: list[str] | None = None) -> int:
    _load_extensions()
    args = build_parser().parse_args(argv)
    try:
        if args.verb in VERBS:
            return VERBS[args.verb].run(args)
        config = load_config(args.config)
        from bot.logs import secrets_of, setup_logging

        quiet = args.verb == "console"
        level = "WARNING" if quiet else config.logging.level
        setup_logging(level, config.logging.format, secrets_of(config))
        if args.verb == "console":
            as_member = args.role in ("mitglied", "member")
            return asyncio.run(run_console(config, args.demo, sys.stdin, sys.stdout, as_member))
        if args.verb == "run":
            return asyncio.run(run_bot(config))
        if args.verb == "check-config":
            from bot.config import find_config_file

            file = find_config_file(args.config)  # what load_config read, ./netzbot.toml too
            return check_config(config, str(file) if file else "defaults/environment")
        if args.verb == "db":
            from storage import migrate
            from storage.db import Store

            store = Store(config.storage.url)
            if args.db_verb == "upgrade":
                migrate.upgrade(store)
            print(
                f"schema revision: {migrate.current_revision(store)} (newest: {migrate.head_revision()})"
            )
            return 0
    except ConfigError as exc:
        print(f"netzbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AlreadyRunning as exc:
        print(f"netzbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        from bot.db_errors import EXIT_DATABASE, describe, is_database_error

        if not is_database_error(exc):
            raise
        url = _storage_url(args.config)
        log.debug("database unusable at start-up", exc_info=True)
        print(f"netzbot: database error: {describe(exc, url)}", file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        return 130
    return 1


def _storage_url(path: str | None) -> str:
    try:
        return load_config(path).storage.url
    except ConfigError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
