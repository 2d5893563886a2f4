"""``netzbot backup`` / ``restore``: every row of every table survives SQLite → PostgreSQL.

Rows are made generically from ``storage.models.metadata`` (so tables other capabilities add are
covered without changing this test), plus hand-made rows with awkward values in the core tables.
"""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from bot.backup import (
    SEEDED_TABLES,
    BackupError,
    python_type,
    restore_backup,
    restore_from,
    write_backup,
)
from bot.cli import main
from bot.types import Attachment, ChatRef, Outgoing
from storage import chats, migrate, outbox
from storage.db import Store
from storage.models import metadata
from storage.models.core import OutboxMessage, Setting

BASE = datetime(2026, 11, 22, 9, 15, 30, 123456, tzinfo=UTC)


def sample_value(table: Table, column: Any, i: int, made: dict[str, list[dict]]) -> Any:
    for fk in column.foreign_keys:
        parent = made[fk.column.table.name][i]
        return parent[fk.column.name]
    if column.nullable and i == 1 and not column.primary_key:
        return None
    kind = python_type(column)
    if kind is bool:
        return i % 2 == 0
    if kind is int:
        return 7 + i if column.primary_key else 1000 + i
    if kind is float:
        return 1.5 + i
    if kind is Decimal:
        return Decimal("12.34") + i
    if kind is datetime:
        return BASE + timedelta(hours=i, microseconds=i)
    if kind is date:
        return date(2026, 12, 1 + i)
    if kind is time:
        return time(18, 30 + i)
    if kind is bytes:
        return bytes([0, 255, i])
    if kind in (dict, list):
        return {"n": i, "text": "Grüße"}
    if kind is not None and hasattr(kind, "__members__"):
        return next(iter(kind.__members__.values()))
    text = f"{i}-{table.name}.{column.name} Grüße „zitiert“ 😀\nzweite Zeile"
    length = getattr(column.type, "length", None)
    return text[:length] if length else text


def fill_every_table(store: Store, rows: int = 2) -> dict[str, list[dict]]:
    made: dict[str, list[dict]] = {}
    with store.engine.begin() as conn:
        for table in metadata.sorted_tables:
            made[table.name] = [
                {c.name: sample_value(table, c, i, made) for c in table.columns}
                for i in range(rows)
            ]
            conn.execute(table.insert(), made[table.name])
    return made


def fill_core_by_hand(store: Store) -> None:
    now = BASE + timedelta(days=1)
    with store.session() as session:
        group = ChatRef.parse("signal:group.YWJjZGVmZ2hpams=")
        chats.touch_chat(session, group, is_group=True, title="AG Verkehr & Umwelt <3", now=now)
        chats.touch_person(
            session, ChatRef.parse("telegram:4711"), name="Jörg", language="de", now=now
        )
        outbox.enqueue(
            session,
            Outgoing(
                group,
                '<b>Erinnerung</b>: Sitzung „Haushalt“ – morgen\n\\ "quoted" \t tab',
                "reminder:1:1d",
                attachments=(
                    Attachment("protokoll.pdf", b"%PDF\x00\xff binary", "application/pdf"),
                ),
                kind="reminder",
            ),
            now,
        )
        session.add(Setting(key="hand.setting", value='{"x": [1, 2, "ä"]}'))


def dump(store: Store) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [
                dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()
            ]
    return out


def backup_text(store: Store) -> str:
    buf = io.StringIO()
    write_backup(store, buf, BASE)
    return buf.getvalue()


@pytest.mark.postgres
def test_sqlite_to_postgresql_keeps_every_row(store: Store, pg_store: Store) -> None:
    fill_every_table(store)
    fill_core_by_hand(store)
    before = dump(store)
    assert before["meeting_series"] and before["document"] and before["outbox"]

    text = backup_text(store)
    lines = text.splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "netzbot-backup"
    assert header["schema_revision"] == migrate.head_revision()
    assert header["tables"] == [t.name for t in metadata.sorted_tables]
    total = sum(len(rows) for rows in before.values())
    assert len(lines) == total + 2

    counts = restore_backup(pg_store, iter(io.StringIO(text)), "mem")
    assert counts == {name: len(rows) for name, rows in before.items()}
    after = dump(pg_store)
    assert after == before

    # serial sequences were moved past the restored ids: new rows still get fresh ids
    with pg_store.session() as session:
        assert outbox.enqueue(
            session, Outgoing(ChatRef.parse("telegram:1"), "neu", "after-restore"), BASE
        )
    with pg_store.session() as session:
        ids = session.scalars(select(OutboxMessage.id)).all()
    assert len(ids) == len(set(ids)) == len(before["outbox"]) + 1


@pytest.mark.postgres
def test_postgresql_back_to_sqlite(store: Store, pg_store: Store, tmp_path: Path) -> None:
    fill_every_table(pg_store)
    before = dump(pg_store)
    file = tmp_path / "netzbot-backup.jsonl.gz"
    from bot.backup import backup_to

    backup_to(pg_store, str(file), BASE)
    assert file.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    restore_from(store, str(file))
    assert dump(store) == before


def test_refuses_non_empty_target_unless_forced(store: Store, tmp_path: Path) -> None:
    fill_every_table(store)
    text = backup_text(store)
    other = Store(f"sqlite:///{tmp_path}/other.sqlite3")
    try:
        migrate.upgrade(other)
        with other.session() as session:
            session.add(Setting(key="already", value="1"))
        with pytest.raises(BackupError) as err:
            restore_backup(other, iter(io.StringIO(text)), "b")
        assert err.value.key == "ops.restore.not_empty"
        assert "setting" in err.value.text("de") and "--force" in err.value.text("de")
        restore_backup(other, iter(io.StringIO(text)), "b", force=True)
        assert dump(other) == dump(store)
    finally:
        other.dispose()


def test_truncated_or_foreign_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    fill_every_table(store)
    text = backup_text(store)
    target = Store(f"sqlite:///{tmp_path}/target.sqlite3")
    try:
        cut = "\n".join(text.splitlines()[:-3]) + "\n"
        with pytest.raises(BackupError) as err:
            restore_backup(target, iter(io.StringIO(cut)), "cut.jsonl")
        assert err.value.key == "ops.restore.truncated"
        assert all(not rows for t, rows in dump(target).items() if t not in SEEDED_TABLES)

        lines = text.splitlines()
        trailer = json.loads(lines[-1])
        trailer["rows"]["chat"] += 1
        lying = "\n".join([*lines[:-1], json.dumps(trailer)]) + "\n"
        with pytest.raises(BackupError):
            restore_backup(target, iter(io.StringIO(lying)), "b")
        assert all(not rows for t, rows in dump(target).items() if t not in SEEDED_TABLES)

        for bad, key in (
            ("", "ops.restore.bad_file"),
            ('{"hello": 1}\n', "ops.restore.bad_file"),
            (text.replace(migrate.head_revision() or "", "0001_core", 1), "ops.restore.revision"),
            (
                text.replace('"tables": [', '"tables": ["ghost", ', 1),
                "ops.restore.unknown_table",
            ),
        ):
            with pytest.raises(BackupError) as err:
                restore_backup(target, iter(io.StringIO(bad)), "b")
            assert err.value.key == key
    finally:
        target.dispose()


def test_backup_refuses_unmigrated_database(tmp_path: Path) -> None:
    missing = Store(f"sqlite:///{tmp_path}/missing.sqlite3")
    with pytest.raises(BackupError):
        write_backup(missing, io.StringIO(), BASE)
    assert not (tmp_path / "missing.sqlite3").exists()
    old = Store(f"sqlite:///{tmp_path}/old.sqlite3")
    try:
        migrate.upgrade(old, "0001_core")
        with pytest.raises(BackupError) as err:
            write_backup(old, io.StringIO(), BASE)
        assert err.value.key == "ops.backup.not_migrated"
    finally:
        old.dispose()


@pytest.mark.postgres
def test_cli_backup_then_restore_into_postgresql(
    store: Store, pg_url: str, tmp_path: Path, capsys
) -> None:
    fill_core_by_hand(store)
    before = dump(store)
    src = tmp_path / "src.toml"
    src.write_text(f'[storage]\nurl = "{store.url}"\n', encoding="utf-8")
    dst = tmp_path / "dst.toml"
    dst.write_text(f'[storage]\nurl = "{pg_url}"\n', encoding="utf-8")
    file = tmp_path / "netzbot.jsonl"

    assert main(["backup", str(file), "--config", str(src)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Sicherung geschrieben: {file}")
    assert not Path(f"{file}.partial").exists()

    assert main(["--config", str(dst), "restore", str(file)]) == 0  # empty: migrated on the way
    assert "Wiederhergestellt" in capsys.readouterr().out
    target = Store(pg_url)
    try:
        assert dump(target) == before
    finally:
        target.dispose()

    assert main(["restore", str(file), "--config", str(dst)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["restore", str(file), "--force", "--config", str(dst)]) == 0
    assert main(["restore", str(tmp_path / "missing.jsonl"), "--config", str(dst)]) == 1
    assert "missing.jsonl" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["netzbot.jsonl", "netzbot.jsonl.gz"])
def test_backup_file_is_private_from_the_first_byte(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Issue 13 item 19: a backup holds everyone's data; 0600 even while it is written."""
    from bot import backup

    fill_core_by_hand(store)
    target = tmp_path / name
    (tmp_path / f"{name}.partial").write_text("stale", encoding="utf-8")  # from a crash
    (tmp_path / f"{name}.partial").chmod(0o644)
    modes: list[int] = []
    real = backup.write_backup

    def spying(store_: Store, out, now):  # type: ignore[no-untyped-def]
        modes.append(stat.S_IMODE(os.stat(f"{target}.partial").st_mode))
        return real(store_, out, now)

    monkeypatch.setattr(backup, "write_backup", spying)
    old_umask = os.umask(0o022)
    try:
        backup.backup_to(store, str(target), datetime(2026, 11, 30, tzinfo=UTC))
    finally:
        os.umask(old_umask)
    assert modes == [0o600]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with backup._open(str(target), "r") as fh:
        assert '"end": true' in fh.read().splitlines()[-1]
