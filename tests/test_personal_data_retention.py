"""The retention job keeps what docs/privacy.md promises, and nothing longer."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.types import ChatRef, Outgoing
from jobs import retention
from storage import outbox
from storage import questions as qs
from storage.db import Store
from storage.models.core import OutboxMessage
from storage.models.questions import Question
from tests.support import NET


def test_outbox_texts_emptied_after_30_days_rows_deleted_after_a_year(
    store: Store, now: datetime
) -> None:
    chat = ChatRef.parse("telegram:5")
    with store.session() as session:
        for key, age, status in [
            ("old-sent", 31, outbox.SENT),
            ("ancient-sent", 400, outbox.SENT),
            ("old-failed", 40, outbox.FAILED),
            ("fresh-sent", 5, outbox.SENT),
            ("old-pending", 40, outbox.PENDING),
        ]:
            outbox.enqueue(session, Outgoing(chat, f"Text {key}", key), now - timedelta(days=age))
            session.execute(
                OutboxMessage.__table__.update()
                .where(OutboxMessage.dedupe_key == key)
                .values(status=status)
            )
    with store.session() as session:
        emptied, deleted, _ = retention.prune(session, now)
    assert (emptied, deleted) == (2, 1)
    with store.session() as session:
        rows = {r.dedupe_key: r for r in session.exec(select(OutboxMessage))}
    assert set(rows) == {"old-sent", "old-failed", "fresh-sent", "old-pending"}
    assert rows["old-sent"].text == "" and rows["old-failed"].text == ""
    assert rows["fresh-sent"].text == "Text fresh-sent"
    assert rows["old-pending"].text == "Text old-pending"  # never sent: never touched
    with store.session() as session:  # the dedupe key still blocks a repeat
        assert outbox.enqueue(session, Outgoing(chat, "again", "old-sent"), now) is False


def test_done_questions_deleted_after_180_days(store: Store, now: datetime) -> None:
    with store.session() as session:
        for text in ("alt erledigt", "neu erledigt", "offen"):
            qs.ask(
                session,
                text,
                asker_ref="telegram:1",
                asker_name="A",
                anonymous=False,
                chat_ref="telegram:-1",
                now=now - timedelta(days=400),
                network_id=NET,
            )
        qs.support(session, 1, "telegram:2", now, network_id=NET)
        qs.mark_done(session, 1, now - timedelta(days=181), network_id=NET)
        qs.mark_done(session, 2, now - timedelta(days=10), network_id=NET)
    with store.session() as session:
        assert retention.prune(session, now)[2] == 1
    with store.session() as session:
        assert [q.text for q in session.exec(select(Question).order_by(Question.id))] == [
            "neu erledigt",
            "offen",
        ]
        assert qs.support_count(session, 1) == 0
