from __future__ import annotations

from datetime import datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import select

import storage.models
from bot.types import ChatRef, Outgoing
from storage import chats, migrate, outbox, subscriptions
from storage.db import Store, normalize_url
from storage.models.core import OutboxMessage, Subscription
from tests.support import NET


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.sqlite3") == "sqlite:///x.sqlite3"


def test_migrations_match_models_and_are_idempotent(any_store: Store) -> None:
    assert migrate.current_revision(any_store) == migrate.head_revision()
    assert not migrate.pending(any_store)
    with any_store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), storage.models.metadata
        )
    assert diff == []
    migrate.upgrade(any_store)  # second run changes nothing
    assert migrate.current_revision(any_store) == migrate.head_revision()


def test_fresh_database_is_migrated_from_nothing(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path}/fresh.sqlite3")
    assert migrate.current_revision(store) is None
    assert migrate.pending(store)
    migrate.upgrade(store)
    assert not migrate.pending(store)


def test_outbox_enqueue_is_idempotent(any_store: Store, now: datetime) -> None:
    out = Outgoing(ChatRef.parse("telegram:42"), "<b>Hallo</b>", "reminder:1:42:1d")
    with any_store.session() as session:
        assert outbox.enqueue(session, out, now)
        assert not outbox.enqueue(session, out, now)
    with any_store.session() as session:
        assert not outbox.enqueue(session, out, now + timedelta(days=1))
        rows = session.exec(select(OutboxMessage)).all()
    assert len(rows) == 1
    assert rows[0].created_at == now  # aware UTC in, aware UTC out, on both databases


def test_subscriptions_and_chat_move(any_store: Store, now: datetime) -> None:
    old, new = ChatRef.parse("telegram:-100"), ChatRef.parse("telegram:-1001000")
    with any_store.session() as session:
        chats.touch_chat(session, old, is_group=True, title="Netzwerk", now=now)
        subscriptions.subscribe(
            session, old, "meetings", now, options={"lead_times": ["1h"]}, network_id=NET
        )
        outbox.enqueue(session, Outgoing(old, "x", "k1"), now)
    with any_store.session() as session:
        chats.move_chat(session, old, new, now)
    with any_store.session() as session:
        sub = subscriptions.get(session, new, "meetings", network_id=NET)
        assert sub is not None and subscriptions.options(sub) == {"lead_times": ["1h"]}
        assert session.exec(select(OutboxMessage)).one().chat_ref == str(new)
        assert not chats.is_active(session, old) and chats.is_active(session, new)


def test_deactivate_chat_switches_off_its_subscriptions(any_store: Store, now: datetime) -> None:
    chat = ChatRef.parse("signal:+4915100000001")
    with any_store.session() as session:
        subscriptions.subscribe(session, chat, "news", now, person=chat, network_id=NET)
        subscriptions.subscribe(session, chat, "meetings", now, person=chat, network_id=NET)
    with any_store.session() as session:
        assert chats.deactivate_chat(session, chat, now) == 2
    with any_store.session() as session:
        assert subscriptions.active(session, "news") == []
        assert all(not s.active for s in session.exec(select(Subscription)))
