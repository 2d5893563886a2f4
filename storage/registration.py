"""Registration queries: register, cancel, move people up from the waiting list.

Every change runs under a lock on the meeting's ``registration_settings`` row (created on
first use): ``SELECT … FOR UPDATE`` on PostgreSQL, the database write lock on SQLite (taken
by the first statement, an UPDATE). Counting and inserting then see no concurrent change, so
exactly ``capacity`` people are ever registered — also with two processes on one database.
The unique (meeting, person) constraint makes a second entry of one person impossible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import EllipsisType

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from storage import people
from storage.models.registration import (
    REGISTERED,
    WAITING,
    MeetingPost,
    Registration,
    RegistrationSettings,
)

MAX_CAPACITY = 100_000


@dataclass(frozen=True)
class Seats:
    """How full a meeting is. ``capacity`` None: no limit."""

    registered: int
    waiting: int
    capacity: int | None
    closes_at: datetime | None

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.registered >= self.capacity


@dataclass(frozen=True)
class Outcome:
    """What ``register`` did: ``status`` registered/waiting, ``position`` on the waiting list
    (0 when registered), ``new`` False when the person was already there."""

    status: str
    position: int
    new: bool
    row: Registration


class RegistrationClosed(Exception):
    """Registration for this meeting has ended (``anmeldung_bis`` passed, or it started)."""


def lock(session: Session, occurrence_id: int, now: datetime) -> RegistrationSettings:
    """Take the meeting's registration lock for the rest of the transaction."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # The INSERT makes sure there is a row to lock; on SQLite it also takes the write lock
    # before anything is read (a deferred read-then-write could not upgrade safely).
    session.execute(
        insert(RegistrationSettings)
        .values(occurrence_id=occurrence_id, updated_at=now)
        .on_conflict_do_nothing(index_elements=["occurrence_id"])
    )
    settings = session.exec(
        select(RegistrationSettings)
        .where(RegistrationSettings.occurrence_id == occurrence_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return settings


def settings_of(session: Session, occurrence_id: int) -> RegistrationSettings | None:
    return session.get(RegistrationSettings, occurrence_id)


def configure(
    session: Session,
    occurrence_id: int,
    now: datetime,
    *,
    network_id: int | None = None,
    capacity: int | EllipsisType | None = ...,
    closes_at: datetime | EllipsisType | None = ...,
) -> list[Registration]:
    """Set seats and/or deadline (``...`` leaves a value as it is). More seats move people up
    from the waiting list; they are returned so the caller can tell them."""
    settings = lock(session, occurrence_id, now)
    if capacity is not ...:
        settings.capacity = capacity
    if closes_at is not ...:
        settings.closes_at = closes_at
    if network_id is not None:
        settings.network_id = network_id
    settings.updated_at = now
    session.add(settings)
    session.flush()
    return _fill_seats(session, settings, now)


def _count(session: Session, occurrence_id: int, status: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(Registration)
        .where(Registration.occurrence_id == occurrence_id, Registration.status == status)
    ).one()


def seats(session: Session, occurrence_id: int) -> Seats:
    settings = settings_of(session, occurrence_id)
    return Seats(
        _count(session, occurrence_id, REGISTERED),
        _count(session, occurrence_id, WAITING),
        settings.capacity if settings else None,
        settings.closes_at if settings else None,
    )


def find(session: Session, occurrence_id: int, person_key: str) -> Registration | None:
    return session.exec(
        select(Registration).where(
            Registration.occurrence_id == occurrence_id, Registration.person_key == person_key
        )
    ).first()


def waiting_position(session: Session, row: Registration) -> int:
    if row.status != WAITING:
        return 0
    return session.exec(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.occurrence_id == row.occurrence_id,
            Registration.status == WAITING,
            col(Registration.id) <= row.id,
        )
    ).one()


def register(
    session: Session,
    occurrence_id: int,
    *,
    person_key: str,
    account_ref: str,
    name: str | None,
    now: datetime,
    starts_at: datetime,
    network_id: int | None = None,
) -> Outcome:
    """Register the person, or put them on the waiting list when all seats are taken."""
    settings = lock(session, occurrence_id, now)
    existing = find(session, occurrence_id, person_key)
    if existing is not None:
        return Outcome(existing.status, waiting_position(session, existing), False, existing)
    if now >= starts_at or (settings.closes_at is not None and now >= settings.closes_at):
        raise RegistrationClosed()
    taken = _count(session, occurrence_id, REGISTERED)
    free = settings.capacity is None or taken < settings.capacity
    row = Registration(
        network_id=network_id if network_id is not None else settings.network_id,
        occurrence_id=occurrence_id,
        person_key=person_key,
        account_ref=account_ref,
        name=(name or None) and name[:300],
        status=REGISTERED if free else WAITING,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return Outcome(row.status, waiting_position(session, row), True, row)


def unregister(
    session: Session, occurrence_id: int, person_key: str, now: datetime
) -> tuple[Registration | None, list[Registration]]:
    """Remove the person's entry. Returns it (None if there was none) and whoever moved up."""
    settings = lock(session, occurrence_id, now)
    row = find(session, occurrence_id, person_key)
    if row is None:
        return None, []
    session.delete(row)
    session.flush()
    return row, _fill_seats(session, settings, now)


def _fill_seats(
    session: Session, settings: RegistrationSettings, now: datetime
) -> list[Registration]:
    """Move the first people of the waiting list up while there are free seats."""
    occurrence_id = settings.occurrence_id
    if settings.capacity is None:
        free = _count(session, occurrence_id, WAITING)
    else:
        free = settings.capacity - _count(session, occurrence_id, REGISTERED)
    if free <= 0:
        return []
    moved = list(
        session.exec(
            select(Registration)
            .where(Registration.occurrence_id == occurrence_id, Registration.status == WAITING)
            .order_by(col(Registration.id))
            .limit(free)
        )
    )
    for row in moved:
        row.status = REGISTERED
        row.updated_at = now
        session.add(row)
    session.flush()
    return moved


def entries(session: Session, occurrence_id: int) -> list[Registration]:
    """Registered first, then the waiting list, each in the order they came."""
    rows = session.exec(
        select(Registration)
        .where(Registration.occurrence_id == occurrence_id)
        .order_by(col(Registration.id))
    ).all()
    return [r for r in rows if r.status == REGISTERED] + [r for r in rows if r.status == WAITING]


def registered_accounts(session: Session, occurrence_ids: list[int]) -> list[Registration]:
    if not occurrence_ids:
        return []
    return list(
        session.exec(
            select(Registration).where(
                col(Registration.occurrence_id).in_(occurrence_ids),
                Registration.status == REGISTERED,
            )
        )
    )


# -- posts with a button or 👍 -------------------------------------------------------------------
def add_post(
    session: Session,
    occurrence_id: int,
    chat_ref: str,
    message_id: str,
    now: datetime,
    network_id: int | None = None,
) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(MeetingPost)
        .values(
            occurrence_id=occurrence_id,
            chat_ref=chat_ref,
            message_id=message_id,
            network_id=network_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["chat_ref", "message_id"])
    )


def post_for(session: Session, chat_ref: str, message_id: str) -> MeetingPost | None:
    return session.exec(
        select(MeetingPost).where(
            MeetingPost.chat_ref == chat_ref, MeetingPost.message_id == message_id
        )
    ).first()


# -- personal data -------------------------------------------------------------------------------
def of_person(session: Session, keys: list[str]) -> list[Registration]:
    return list(
        session.exec(
            select(Registration)
            .where(col(Registration.person_key).in_(keys) | col(Registration.account_ref).in_(keys))
            .order_by(col(Registration.id))
        )
    )


def forget_person(session: Session, keys: list[str], now: datetime) -> list[Registration]:
    """Delete the person's entries; whoever moves up into a freed seat is returned."""
    moved: list[Registration] = []
    for row in of_person(session, keys):
        _gone, up = unregister(session, row.occurrence_id, row.person_key, now)
        moved += up
    return moved


def move_chat(session: Session, old: str, new: str) -> None:
    session.execute(
        update(Registration).where(col(Registration.account_ref) == old).values(account_ref=new)
    )
    session.execute(delete(MeetingPost).where(col(MeetingPost.chat_ref) == old))


# Registrations count once per person (``storage.people``): linking accounts merges them.
people.KEYED_COLUMNS.append(("registration", "person_key"))
