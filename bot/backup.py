"""``netzbot backup FILE`` / ``netzbot restore FILE``: the whole store as portable JSON lines.

Line 1 is a header (format, version, schema revision, table list); then one line per row,
``{"table": …, "row": {column: value}}``, tables in foreign-key order; the last line is a
trailer with the row count per table, so a truncated file is detected and refused.
The export is generic over ``storage.models.metadata``: tables added by any capability are
included without changes here. Values are JSON; datetimes ISO 8601 with offset, bytes base64,
decimals strings — decoded back by the column's type, so SQLite ↔ PostgreSQL both work.
A FILE ending in ``.gz`` is gzip-compressed; ``-`` is stdout/stdin.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import io
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.engine import Connection

from bot import i18n
from bot.cli_registry import CliVerb, register_verb
from bot.config import load_config
from bot.db_errors import is_database_error
from bot.errors import ConfigError
from bot.ops_common import add_config_option
from storage import migrate
from storage.db import Store
from storage.models import metadata

# Filled in every migrated store (the network made by migration 0006, the console chat synced
# at start-up): a store with rows only here counts as empty, and the backup's networks replace
# them.
SEEDED_TABLES = ("network", "network_chat")
FORMAT = "netzbot-backup"
VERSION = 1
BATCH = 500


class BackupError(Exception):
    """A backup or restore that must not go on; ``key``/``kwargs`` name the catalog text."""

    def __init__(self, key: str, **kwargs: object) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs

    def text(self, lang: str) -> str:
        return i18n.plain(lang, self.key, **self.kwargs)


# -- values -----------------------------------------------------------------------------------
def encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


def python_type(column: Any) -> type | None:
    """The Python type a column holds; looks through TypeDecorators (e.g. ``UTCDateTime``)."""
    kind = column.type
    for candidate in (kind, getattr(kind, "impl_instance", None)):
        if candidate is None:
            continue
        try:
            found = candidate.python_type
        except (NotImplementedError, AttributeError):
            continue
        if isinstance(found, type) and found is not object:
            return found
    return None


def decode_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = python_type(column)
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if kind is date:
        return date.fromisoformat(value)
    if kind is time:
        return time.fromisoformat(value)
    if kind is bytes:
        return base64.b64decode(value)
    if kind is Decimal:
        return Decimal(value)
    return value


# -- backup -----------------------------------------------------------------------------------
@contextlib.contextmanager
def snapshot(store: Store) -> Iterator[Connection]:
    """A connection that sees one consistent state while the bot keeps running.

    PostgreSQL: a REPEATABLE READ transaction. SQLite file: a copy made with SQLite's online
    backup API (consistent even in WAL mode), read from there.
    """
    if store.is_sqlite and store.engine.url.database not in (None, "", ":memory:"):
        with tempfile.TemporaryDirectory(prefix="netzbot-backup-") as tmp:
            copy = Path(tmp) / "snapshot.sqlite3"
            source = sqlite3.connect(store.engine.url.database)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
            frozen = Store(f"sqlite:///{copy}")
            try:
                with frozen.engine.connect() as conn:
                    yield conn
            finally:
                frozen.dispose()
        return
    with store.engine.connect() as conn:
        if not store.is_sqlite:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def write_backup(store: Store, out: IO[str], now: datetime) -> dict[str, int]:
    """Write every table; returns rows per table."""
    database = store.engine.url.database
    if store.is_sqlite and database and database != ":memory:" and not Path(database).exists():
        raise BackupError("ops.backup.not_migrated", revision="–")  # do not create a file
    revision = migrate.current_revision(store)
    if revision is None or revision != migrate.head_revision():
        raise BackupError("ops.backup.not_migrated", revision=revision or "–")
    tables = list(metadata.sorted_tables)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "schema_revision": revision,
        "created_at": now.isoformat(),
        "source": store.engine.dialect.name,
        "tables": [t.name for t in tables],
    }
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    with snapshot(store) as conn:
        for table in tables:
            counts[table.name] = 0
            order = list(table.primary_key.columns) or list(table.columns)
            result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
            for row in result.mappings():
                line = {"table": table.name, "row": {k: encode_value(v) for k, v in row.items()}}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                counts[table.name] += 1
    out.write(json.dumps({"end": True, "rows": counts}) + "\n")
    return counts


# -- restore ----------------------------------------------------------------------------------
def _read_header(lines: Iterator[str], name: str) -> dict[str, Any]:
    try:
        header = json.loads(next(lines))
    except StopIteration:
        raise BackupError("ops.restore.bad_file", file=name, error="empty file") from None
    except ValueError as exc:
        raise BackupError("ops.restore.bad_file", file=name, error=str(exc)) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("ops.restore.bad_file", file=name, error="no netzbot-backup header")
    if header.get("version") != VERSION:
        raise BackupError(
            "ops.restore.bad_file", file=name, error=f"format version {header.get('version')}"
        )
    return header


def _non_empty_tables(conn: Connection) -> list[str]:
    return [
        t.name
        for t in metadata.sorted_tables
        if conn.execute(select(func.count()).select_from(t)).scalar()
    ]


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move serial sequences past the restored ids."""
    quote = conn.dialect.identifier_preparer.quote
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or python_type(pk[0]) is not int:
            continue
        column = pk[0]
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"),
            {"t": quote(table.name), "c": column.name},
        ).scalar()
        top = conn.execute(select(func.max(column))).scalar()
        if seq and top is not None:
            conn.execute(text("SELECT setval(CAST(:s AS regclass), :v)"), {"s": seq, "v": top})


def restore_backup(
    store: Store, lines: Iterator[str], name: str, force: bool = False
) -> dict[str, int]:
    """Load a backup into ``store`` (migrated first) in one transaction; all or nothing."""
    header = _read_header(lines, name)
    migrate.upgrade(store)
    target = migrate.current_revision(store)
    if header.get("schema_revision") != target:
        raise BackupError(
            "ops.restore.revision", backup=header.get("schema_revision"), target=target
        )
    tables: dict[str, Table] = {t.name: t for t in metadata.sorted_tables}
    for table_name in header.get("tables", []):
        if table_name not in tables:
            raise BackupError("ops.restore.unknown_table", table=table_name)
    counts: dict[str, int] = {}
    with store.engine.begin() as conn:
        filled = _non_empty_tables(conn)
        data = [t for t in filled if t not in SEEDED_TABLES]
        if data and not force:
            raise BackupError("ops.restore.not_empty", tables=", ".join(data))
        if filled:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
        trailer = _insert_rows(conn, lines, tables, counts, name)
        expected = trailer.get("rows", {})
        for table_name, n in counts.items():
            if expected.get(table_name) != n:
                raise BackupError(
                    "ops.restore.truncated", file=name, error=f"{table_name}: {n} rows read"
                )
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return {t: expected.get(t, 0) for t in header.get("tables", [])}


def _insert_rows(
    conn: Connection,
    lines: Iterator[str],
    tables: dict[str, Table],
    counts: dict[str, int],
    name: str,
) -> dict[str, Any]:
    batch: list[dict[str, Any]] = []
    current: Table | None = None

    def flush() -> None:
        if current is not None and batch:
            conn.execute(current.insert(), batch)
            batch.clear()

    for number, raw in enumerate(lines, start=2):
        try:
            item: dict[str, Any] = json.loads(raw)
        except ValueError as exc:
            raise BackupError(
                "ops.restore.truncated", file=name, error=f"line {number}: {exc}"
            ) from None
        if item.get("end"):
            flush()
            return item
        table = tables.get(item.get("table", ""))
        if table is None:
            raise BackupError("ops.restore.unknown_table", table=item.get("table"))
        if table is not current:
            flush()
            current = table
        row = item["row"]
        unknown = set(row) - set(table.columns.keys())
        if unknown:
            raise BackupError("ops.restore.bad_file", file=name, error=f"columns {unknown}")
        batch.append({k: decode_value(table.columns[k], v) for k, v in row.items()})
        counts[table.name] = counts.get(table.name, 0) + 1
        if len(batch) >= BATCH:
            flush()
    raise BackupError("ops.restore.truncated", file=name, error="no trailer line")


# -- files and the CLI ------------------------------------------------------------------------
def _open(path: str, mode: str, gz: bool | None = None) -> AbstractContextManager[IO[str]]:
    if path == "-":  # standard input or output: used, never closed
        return contextlib.nullcontext(sys.stdout if "w" in mode else sys.stdin)
    if gz if gz is not None else path.endswith(".gz"):
        return io.TextIOWrapper(gzip.GzipFile(path, mode), encoding="utf-8")  # = gzip.open(…t)
    return open(path, mode, encoding="utf-8")


def _create_private(path: str, gz: bool) -> IO[str]:
    """A new file only its owner may read (0600 from the first byte, whatever the umask
    allows otherwise): a backup holds every person's data."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a stale partial file from a crash; O_EXCL below needs it gone
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    raw = os.fdopen(fd, "wb")
    if gz:
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="wb"), encoding="utf-8")
    return io.TextIOWrapper(raw, encoding="utf-8")


def backup_to(store: Store, path: str, now: datetime) -> dict[str, int]:
    """Write to ``path`` atomically (a partial file never replaces a good one)."""
    if path == "-":
        return write_backup(store, sys.stdout, now)
    partial = f"{path}.partial"
    try:
        with _create_private(partial, gz=path.endswith(".gz")) as fh:
            counts = write_backup(store, fh, now)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return counts


def restore_from(store: Store, path: str, force: bool = False) -> dict[str, int]:
    with _open(path, "r") as fh:
        return restore_backup(store, iter(fh), path, force)


def _run(args: argparse.Namespace) -> int:
    lang = i18n.DEFAULT_LANGUAGE
    report = sys.stderr if args.file == "-" else sys.stdout
    try:
        config = load_config(args.config)
        lang = config.bot.language
        store = Store(config.storage.url)
        try:
            if args.verb == "backup":
                counts = backup_to(store, args.file, datetime.now(UTC))
                key = "ops.backup.done"
                extra = {"revision": migrate.current_revision(store)}
            else:
                counts = restore_from(store, args.file, force=args.force)
                key, extra = "ops.restore.done", {}
        finally:
            store.dispose()
    except ConfigError as exc:
        print(f"netzbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except BackupError as exc:
        print(exc.text(lang), file=sys.stderr)
        return 1
    except OSError as exc:
        print(i18n.plain(lang, "ops.file_error", file=args.file, error=exc), file=sys.stderr)
        return 1
    except Exception as exc:
        if is_database_error(exc):
            raise  # bot.cli names the database problem the same way for every verb
        error = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(i18n.plain(lang, "ops.restore.failed", error=error), file=sys.stderr)
        return 1
    rows = sum(counts.values())
    print(
        i18n.plain(lang, key, file=args.file, rows=rows, tables=len(counts), **extra), file=report
    )
    return 0


def _configure_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="JSON lines file (.gz compresses; - stdout)")
    add_config_option(parser)


def _configure_restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a file written by netzbot backup")
    parser.add_argument(
        "--force", action="store_true", help="replace everything in a non-empty database"
    )
    add_config_option(parser)


register_verb(
    CliVerb("backup", "write the whole store to FILE (JSON lines)", _configure_backup, _run)
)
register_verb(
    CliVerb(
        "restore",
        "load a backup into an empty database (SQLite or PostgreSQL)",
        _configure_restore,
        _run,
    )
)
