"""Outbox claims on both databases: one row per chat at a time, SKIP LOCKED between processes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.types import ChatRef, Outgoing
from storage import outbox
from storage.db import Store
from storage.models import metadata

LEASE = timedelta(seconds=60)


def fill(store: Store, now: datetime, chats: int, per_chat: int) -> None:
    with store.session() as session:
        for n in range(per_chat):
            for c in range(chats):
                chat = ChatRef("telegram", str(500 + c))
                outbox.enqueue(session, Outgoing(chat, f"{c}/{n}", f"k{c}:{n}"), now)


async def test_claim_takes_the_oldest_row_of_each_chat_only(any_store: Store, now) -> None:
    fill(any_store, now, chats=3, per_chat=3)
    with any_store.session() as session:
        first = outbox.claim_ready(session, now, "w1", LEASE, platforms=["telegram"], limit=10)
    assert sorted(r.text for r in first) == ["0/0", "1/0", "2/0"]
    with any_store.session() as session:  # while those are in flight nothing else is ready
        assert outbox.claim_ready(session, now, "w1", LEASE, platforms=["telegram"], limit=10) == []
        outbox.mark_sent_many(session, [r.id for r in first], now)
    with any_store.session() as session:
        second = outbox.claim_ready(session, now, "w1", LEASE, platforms=["telegram"], limit=10)
    assert sorted(r.text for r in second) == ["0/1", "1/1", "2/1"]


async def test_claim_respects_platform_limit_and_accept(any_store: Store, now) -> None:
    fill(any_store, now, chats=4, per_chat=1)
    with any_store.session() as session:
        outbox.enqueue(session, Outgoing(ChatRef("signal", "+49151"), "s", "sig"), now)
    with any_store.session() as session:
        rows = outbox.claim_ready(
            session, now, "w", LEASE, platforms=["telegram"], limit=2,
            accept=lambda ref: ref != "telegram:500",
        )  # fmt: skip
    assert [r.chat_ref for r in rows] == ["telegram:501", "telegram:502"]
    with any_store.session() as session:
        assert outbox.counts(session) == {"pending": 3, "sending": 2}


@pytest.mark.postgres
async def test_concurrent_claims_on_postgres_skip_locked_rows(pg_store: Store, now) -> None:
    """Two transactions claim at the same time: the second skips what the first has locked."""
    fill(pg_store, now, chats=6, per_chat=2)
    with pg_store.session() as first, pg_store.session() as second:
        a = outbox.claim_ready(first, now, "A", LEASE, platforms=["telegram"], limit=3)
        b = outbox.claim_ready(second, now, "B", LEASE, platforms=["telegram"], limit=10)
        first.commit()
    ids_a, ids_b = {r.id for r in a}, {r.id for r in b}
    assert len(ids_a) == 3 and len(ids_b) == 3 and not ids_a & ids_b
    # and never two rows of one chat at once, across both claimants
    chats = [r.chat_ref for r in a + b]
    assert len(chats) == len(set(chats)) == 6


async def test_release_and_claimants(any_store: Store, now) -> None:
    fill(any_store, now, chats=2, per_chat=1)
    with any_store.session() as session:
        outbox.claim_ready(session, now, "dead", LEASE, platforms=["telegram"], limit=1)
        outbox.claim_ready(session, now, "alive", LEASE, platforms=["telegram"], limit=1)
    with any_store.session() as session:
        assert sorted(outbox.claimants(session)) == ["alive", "dead"]
        assert outbox.release_claims(session, "dead") == 1
        assert outbox.claimants(session) == ["alive"]


def test_delivery_tables_match_their_migration(any_store: Store) -> None:
    with any_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = [
        d for d in diff if "delivery_attempt" in repr(d) or "ix_outbox_chat_status_id" in repr(d)
    ]
    assert mine == []
