"""Questions for the next meeting: asking, supporting ('/plus'), ranking, closing, forgetting."""

from __future__ import annotations

import re
import secrets
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from storage import people
from storage.documents import fold_loose
from storage.models.questions import DONE, OPEN, Question, QuestionSupport


@dataclass(frozen=True)
class RankedQuestion:
    question: Question
    supporters: int


class AlreadySupported(Exception):
    pass


class OwnQuestion(Exception):
    pass


class QuestionClosed(Exception):
    pass


def ask(
    session: Session,
    text: str,
    *,
    asker_ref: str,
    asker_name: str | None,
    anonymous: bool,
    chat_ref: str,
    now: datetime,
    network_id: int,
) -> Question:
    """Store an open question. The asker's ref is kept even for anonymous questions (so they
    cannot '+1' themselves and can see and delete it with /meine_daten, /vergessen); only the
    name is never stored or shown for anonymous ones."""
    row = Question(
        network_id=network_id,
        text=text,
        asker_ref=asker_ref,
        asker_name=None if anonymous or not asker_name else asker_name[:300],
        anonymous=anonymous,
        chat_ref=chat_ref,
        status=OPEN,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def find_duplicate(session: Session, text: str, *, network_id: int) -> Question | None:
    """An open question of the network with the same wording (case, umlauts and punctuation
    ignored)."""
    wanted = _normal(text)
    stmt = select(Question).where(Question.status == OPEN, Question.network_id == network_id)
    for row in session.exec(stmt):
        if _normal(row.text) == wanted:
            return row
    return None


def _normal(text: str) -> str:
    return "".join(c for c in fold_loose(text) if c.isalnum())


def get(session: Session, question_id: int, *, network_id: int) -> Question | None:
    """A question by number; one of another network is None ("not found")."""
    row = session.get(Question, question_id)
    return row if row is not None and row.network_id == network_id else None


def support(
    session: Session, question_id: int, person_ref: str, now: datetime, *, network_id: int
) -> int:
    """Add one person's support; returns the new count. Raises if not allowed (LookupError
    for a question of another network)."""
    row = get(session, question_id, network_id=network_id)
    if row is None:
        raise LookupError(question_id)
    if row.status != OPEN:
        raise QuestionClosed(question_id)
    if row.asker_ref == person_ref:
        raise OwnQuestion(question_id)
    exists = session.exec(
        select(QuestionSupport).where(
            QuestionSupport.question_id == question_id, QuestionSupport.person_ref == person_ref
        )
    ).first()
    if exists is not None:
        raise AlreadySupported(question_id)
    session.add(QuestionSupport(question_id=question_id, person_ref=person_ref, created_at=now))
    session.flush()
    return support_count(session, question_id)


def support_count(session: Session, question_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(QuestionSupport)
            .where(QuestionSupport.question_id == question_id)
        )
        or 0
    )


def ranked_open(
    session: Session, limit: int | None = None, *, network_id: int
) -> list[RankedQuestion]:
    """Open questions of the network, most supported first; equal support: asked earlier
    first."""
    count = func.count(col(QuestionSupport.id)).label("supporters")
    stmt = (
        select(Question, count)
        .outerjoin(QuestionSupport, col(QuestionSupport.question_id) == col(Question.id))
        .where(Question.status == OPEN, Question.network_id == network_id)
        .group_by(col(Question.id))
        .order_by(count.desc(), col(Question.created_at), col(Question.id))
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [RankedQuestion(q, n) for q, n in session.exec(stmt)]


def agenda_texts(session: Session, limit: int = 5, *, network_id: int) -> list[str]:
    """The network's most supported open questions as plain lines, e.g. for the meetings
    capability's ``agenda_questions`` hook (its /termin detail)."""
    ranked = ranked_open(session, limit, network_id=network_id)
    return [f"{r.question.text} (+{r.supporters})" for r in ranked]


def mark_done(
    session: Session, question_id: int, now: datetime, *, network_id: int
) -> Question | None:
    row = get(session, question_id, network_id=network_id)
    if row is None:
        return None
    row.status = DONE
    row.done_at = now
    session.add(row)
    return row


def prune_done(session: Session, before: datetime) -> int:
    """Delete questions marked done before ``before`` (retention), with their supports."""
    ids = list(
        session.exec(
            select(Question.id).where(Question.status == DONE, col(Question.done_at) < before)
        )
    )
    if not ids:
        return 0
    session.execute(delete(QuestionSupport).where(col(QuestionSupport.question_id).in_(ids)))
    session.execute(delete(Question).where(col(Question.id).in_(ids)))
    return len(ids)


# -- personal data -----------------------------------------------------------------------------
def asked_by(session: Session, person_ref: str) -> list[Question]:
    return list(
        session.exec(
            select(Question).where(Question.asker_ref == person_ref).order_by(col(Question.id))
        )
    )


def supported_by(session: Session, person_ref: str) -> list[Question]:
    stmt = (
        select(Question)
        .join(QuestionSupport, col(QuestionSupport.question_id) == col(Question.id))
        .where(QuestionSupport.person_ref == person_ref)
        .order_by(col(Question.id))
    )
    return list(session.exec(stmt))


def anonymous_ref() -> str:
    """A random stand-in that keeps a support counted without saying whose it was."""
    return f"anon:{secrets.token_hex(8)}"


def forget_person(session: Session, person_ref: str, names: AbstractSet[str] = frozenset()) -> None:
    """Questions others supported stay, without asker; the person's other questions are deleted.
    Supports of open questions are deleted (the person may support again, once); supports of
    questions already done stay counted under random stand-ins. ``names`` (the person's display
    names) are cut out of the questions that stay."""
    for row in asked_by(session, person_ref):
        others = session.scalar(
            select(func.count())
            .select_from(QuestionSupport)
            .where(QuestionSupport.question_id == row.id, QuestionSupport.person_ref != person_ref)
        )
        if others:
            row.asker_ref = None
            row.asker_name = None
            row.anonymous = True
            row.text = redact(row.text, names)
            session.add(row)
        else:
            session.execute(
                delete(QuestionSupport).where(col(QuestionSupport.question_id) == row.id)
            )
            session.delete(row)
    stmt = select(QuestionSupport, Question).join(
        Question, col(Question.id) == col(QuestionSupport.question_id)
    )
    for sup, question in session.exec(stmt.where(QuestionSupport.person_ref == person_ref)):
        if question.status == OPEN:
            session.delete(sup)
        else:
            sup.person_ref = anonymous_ref()
            session.add(sup)
    session.execute(
        update(Question).where(col(Question.chat_ref) == person_ref).values(chat_ref=None)
    )


def redact(text: str, names: AbstractSet[str], replacement: str = "…") -> str:
    """Cut a person's names out of a text (whole words only; names under 3 letters are left,
    they would mangle ordinary words)."""
    for name in sorted((n.strip() for n in names), key=len, reverse=True):
        if len(name) >= 3:
            pattern = rf"(?<!\w){re.escape(name)}(?!\w)"
            text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text


def move_chat(session: Session, old: str, new: str) -> None:
    session.execute(update(Question).where(col(Question.chat_ref) == old).values(chat_ref=new))


# One question, one support per person (``storage.people``): linking accounts merges them.
people.KEYED_COLUMNS.extend([("question_support", "person_ref"), ("question", "asker_ref")])
