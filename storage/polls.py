"""Polls: one question, 2..10 options, posted to one or more chats, one vote per person.

Votes arrive two ways: native poll answers (Telegram, via the platform's poll id) and
``/stimme N`` on platforms without native polls. Both end in ``vote``; a new vote of the same
person replaces the old one, so counting across chats is a plain count over ``poll_vote``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage import people
from storage.models.polls import SINGLE, Poll, PollPost, PollVote

MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTION, MAX_OPTION = 300, 100  # Telegram's limits for sendPoll


def options_of(poll: Poll) -> list[str]:
    value = json.loads(poll.options or "[]")
    return [str(v) for v in value] if isinstance(value, list) else []


def create(
    session: Session,
    question: str,
    options: list[str],
    created_by: str | None,
    now: datetime,
    *,
    network_id: int,
    kind: str = SINGLE,
    max_choices: int | None = None,
    points: int | None = None,
    secret: bool = False,
    closes_at: datetime | None = None,
) -> Poll:
    poll = Poll(
        network_id=network_id,
        question=question,
        options=json.dumps(options, ensure_ascii=False),
        created_by=created_by,
        created_at=now,
        kind=kind,
        max_choices=max_choices,
        points=points,
        secret=secret,
        closes_at=closes_at,
    )
    session.add(poll)
    session.flush()
    return poll


def get(session: Session, poll_id: int, *, network_id: int | None) -> Poll | None:
    """A poll by number; one of another network is None ("not found"). ``network_id=None``
    only for the platform's own poll answers, which carry the poll's id."""
    poll = session.get(Poll, poll_id)
    if poll is None or (network_id is not None and poll.network_id != network_id):
        return None
    return poll


def add_post(
    session: Session,
    poll_id: int,
    chat_ref: str,
    now: datetime,
    platform_poll_id: str | None = None,
) -> PollPost:
    post = PollPost(
        poll_id=poll_id, chat_ref=chat_ref, platform_poll_id=platform_poll_id, created_at=now
    )
    session.add(post)
    session.flush()
    return post


def record_native_post(
    session: Session, poll_id: int, chat_ref: str, platform_poll_id: str, now: datetime
) -> None:
    """The connector posted the native poll: attach its id to our post row (or add one)."""
    if by_platform_id(session, platform_poll_id) is not None:
        return
    post = session.exec(
        select(PollPost)
        .where(
            PollPost.poll_id == poll_id,
            PollPost.chat_ref == chat_ref,
            col(PollPost.platform_poll_id).is_(None),
        )
        .order_by(col(PollPost.id).desc())
    ).first()
    if post is None:
        add_post(session, poll_id, chat_ref, now, platform_poll_id)
    else:
        post.platform_poll_id = platform_poll_id
        session.add(post)


def by_platform_id(session: Session, platform_poll_id: str) -> PollPost | None:
    return session.exec(
        select(PollPost).where(PollPost.platform_poll_id == platform_poll_id)
    ).first()


def latest_in_chat(
    session: Session, chat_ref: str, open_only: bool = False, *, network_id: int
) -> Poll | None:
    stmt = (
        select(Poll)
        .join(PollPost, col(PollPost.poll_id) == col(Poll.id))
        .where(PollPost.chat_ref == chat_ref, Poll.network_id == network_id)
    )
    if open_only:
        stmt = stmt.where(Poll.closed == False)  # noqa: E712 - SQL expression
    return session.exec(stmt.order_by(col(PollPost.id).desc())).first()


def latest(session: Session, *, network_id: int) -> Poll | None:
    stmt = select(Poll).where(Poll.network_id == network_id)
    return session.exec(stmt.order_by(col(Poll.id).desc())).first()


def vote(
    session: Session, poll_id: int, voter_ref: str, option_ids: list[int], now: datetime
) -> bool:
    """Record (or replace, or with no options retract) a vote. Returns whether one was replaced."""
    row = session.exec(
        select(PollVote).where(PollVote.poll_id == poll_id, PollVote.voter_ref == voter_ref)
    ).first()
    if not option_ids:
        if row is not None:
            session.delete(row)
        return row is not None
    value = ",".join(str(i) for i in sorted(set(option_ids)))
    replaced = row is not None
    if row is None:
        row = PollVote(poll_id=poll_id, voter_ref=voter_ref, option_ids=value, updated_at=now)
    else:
        row.option_ids = value
        row.updated_at = now
    session.add(row)
    return replaced


def vote_value(session: Session, poll_id: int, voter_ref: str, value: str, now: datetime) -> bool:
    """Record (or replace) a ballot stored as it is (see ``handlers.poll_kinds``)."""
    row = session.exec(
        select(PollVote).where(PollVote.poll_id == poll_id, PollVote.voter_ref == voter_ref)
    ).first()
    replaced = row is not None
    if row is None:
        row = PollVote(poll_id=poll_id, voter_ref=voter_ref, option_ids=value, updated_at=now)
    else:
        row.option_ids = value
        row.updated_at = now
    session.add(row)
    session.flush()
    return replaced


def ballots(session: Session, poll_id: int) -> list[str]:
    return list(session.exec(select(PollVote.option_ids).where(PollVote.poll_id == poll_id)))


def open_polls(session: Session, network_id: int | None = None, limit: int = 10) -> list[Poll]:
    stmt = select(Poll).where(Poll.closed == False)  # noqa: E712 - SQL expression
    if network_id is not None:
        stmt = stmt.where(Poll.network_id == network_id)
    return list(session.exec(stmt.order_by(col(Poll.id).desc()).limit(limit)))


def due_to_close(session: Session, now: datetime) -> list[Poll]:
    """Polls whose ``bis=`` time has come, and closed polls whose result was not posted yet."""
    stmt = select(Poll).where(
        col(Poll.closes_at).is_not(None),
        col(Poll.closes_at) <= now,
        col(Poll.result_posted_at).is_(None),
    )
    return list(session.exec(stmt.order_by(col(Poll.id)).with_for_update(skip_locked=True)))


def chats_of(session: Session, poll_id: int) -> list[str]:
    rows = session.exec(
        select(PollPost.chat_ref).where(PollPost.poll_id == poll_id).order_by(col(PollPost.id))
    )
    return list(dict.fromkeys(rows))


@dataclass(frozen=True)
class Result:
    poll: Poll
    options: list[str]
    counts: list[int]
    voters: int
    chats: int


def result(session: Session, poll: Poll) -> Result:
    options = options_of(poll)
    counts = [0] * len(options)
    voters = 0
    for value in session.exec(select(PollVote.option_ids).where(PollVote.poll_id == poll.id)):
        voters += 1
        for part in value.split(","):
            if part.isdigit() and int(part) < len(counts):
                counts[int(part)] += 1
    chats = len(set(session.exec(select(PollPost.chat_ref).where(PollPost.poll_id == poll.id))))
    return Result(poll, options, counts, voters, chats)


def close(session: Session, poll: Poll) -> None:
    poll.closed = True
    session.add(poll)


# -- personal data -----------------------------------------------------------------------------
def votes_by(session: Session, voter_ref: str) -> list[tuple[Poll, PollVote]]:
    stmt = (
        select(Poll, PollVote)
        .join(PollVote, col(PollVote.poll_id) == col(Poll.id))
        .where(PollVote.voter_ref == voter_ref)
        .order_by(col(Poll.id))
    )
    return list(session.exec(stmt))


def created_by(session: Session, person_ref: str) -> list[Poll]:
    return list(
        session.exec(select(Poll).where(Poll.created_by == person_ref).order_by(col(Poll.id)))
    )


def forget_person(session: Session, person_ref: str) -> None:
    """Votes in open polls are deleted (the person may vote again, once); votes in closed polls
    stay counted under random stand-ins, so results already announced do not change. Who made a
    poll is forgotten; posts in the person's private chat are removed."""
    stmt = select(PollVote, Poll).join(Poll, col(Poll.id) == col(PollVote.poll_id))
    for row, poll in session.exec(stmt.where(PollVote.voter_ref == person_ref)):
        if poll.closed:
            row.voter_ref = f"anon:{secrets.token_hex(8)}"
            session.add(row)
        else:
            session.delete(row)
    session.execute(update(Poll).where(col(Poll.created_by) == person_ref).values(created_by=None))
    session.execute(delete(PollPost).where(col(PollPost.chat_ref) == person_ref))


def move_chat(session: Session, old: str, new: str) -> None:
    session.execute(update(PollPost).where(col(PollPost.chat_ref) == old).values(chat_ref=new))


# Votes count once per person (``storage.people``): linking accounts merges them.
people.KEYED_COLUMNS.append(("poll_vote", "voter_ref"))
