"""One person, several accounts: the key that votes, supports and registrations count by.

- ``person_key(session, account_ref)`` is the stable key of the person behind an account: the
  account's own ref until it is linked, then the ref of the account that handed out the code.
  Capabilities store it wherever something counts "once per person" and list the column in
  ``KEYED_COLUMNS``, so that linking moves those rows to the joint key (one vote per poll:
  where both accounts had one, the key holder's stays).
- Linking: ``/verknuepfen`` issues a one-time code (only its hash is stored, 10 minutes),
  ``/verknuepfen CODE`` from the other account redeems it; wrong codes count against the
  sender (``MAX_FAILURES`` per ``FAILURE_WINDOW``).
- Signal accounts are keyed by uuid; a number learnt later is an alias (``learn_alias``), and
  rows stored under the number (before this was so) move to the uuid then.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from storage.db import affected_rows
from storage.models.audit import NetworkChoice
from storage.models.core import Chat, Person
from storage.models.people import AccountAlias, AccountLink, LinkCode, LinkFailure

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
CODE_LENGTH = 8  # 32**8 = 2**40 codes
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)

# (table, column) pairs that hold person keys; capabilities add theirs (polls, questions, …).
KEYED_COLUMNS: list[tuple[str, str]] = []

# Columns that may hold an account's ref; ``move_account`` rewrites them (a Signal number that
# turned out to be a uuid's alias). Primary keys of ``chat``/``person`` are merged separately.
ACCOUNT_COLUMNS = frozenset(
    {
        "chat_ref",
        "person_ref",
        "voter_ref",
        "asker_ref",
        "created_by",
        "added_by",
        "actor_ref",
        "account_ref",
        "person_key",
    }
)


class LinkError(Exception):
    """A code could not be redeemed; ``reason`` names the catalog text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Linked:
    person_key: str
    accounts: list[str]


# -- keys ------------------------------------------------------------------------------------


def account_for(session: Session, ref: str) -> str:
    """The account a ref stands for (a Signal number → its uuid account, once known)."""
    alias = session.get(AccountAlias, ref)
    return alias.account_ref if alias is not None else ref


def person_key(session: Session, account_ref: str) -> str:
    """The stable key of the person behind ``account_ref`` (its own ref until linked)."""
    account = account_for(session, str(account_ref))
    link = session.get(AccountLink, account)
    return link.person_key if link is not None else account


def accounts_of(session: Session, account_ref: str) -> list[str]:
    """Every account of the person behind ``account_ref`` (itself included), sorted."""
    account = account_for(session, str(account_ref))
    link = session.get(AccountLink, account)
    if link is None:
        return [account]
    rows = session.exec(
        select(AccountLink.account_ref).where(AccountLink.person_key == link.person_key)
    ).all()
    return sorted({account, *rows})


def aliases_of(session: Session, account_ref: str) -> list[str]:
    return sorted(
        session.exec(
            select(AccountAlias.alias_ref).where(AccountAlias.account_ref == account_ref)
        ).all()
    )


# -- linking ---------------------------------------------------------------------------------


def _hash(code: str) -> str:
    normal = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def issue_code(session: Session, account_ref: str, now: datetime) -> str:
    """A new one-time code for ``account_ref``; earlier codes of that account stop working."""
    session.execute(delete(LinkCode).where(col(LinkCode.account_ref) == account_ref))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        LinkCode(
            code_hash=_hash(code),
            account_ref=account_ref,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    return f"{code[:4]}-{code[4:]}"


def failures(session: Session, account_ref: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LinkFailure)
            .where(LinkFailure.account_ref == account_ref, LinkFailure.at > now - FAILURE_WINDOW)
        )
        or 0
    )


def redeem_code(session: Session, account_ref: str, code: str, now: datetime) -> Linked:
    """Join ``account_ref`` to the person who issued ``code``. Raises ``LinkError``.

    A wrong or expired code is recorded as a failure, and a found code is deleted, before the
    error is raised: the caller must commit the session anyway (see ``handlers.people``)."""
    if failures(session, account_ref, now) >= MAX_FAILURES:
        raise LinkError("too_many")
    row = session.get(LinkCode, _hash(code))
    if row is None:
        record_failure(session, account_ref, now)
        raise LinkError("invalid")
    if row.expires_at <= now:
        session.delete(row)
        record_failure(session, account_ref, now)
        raise LinkError("expired")
    issuer = row.account_ref
    session.delete(row)  # single use, whatever happens next
    if issuer == account_ref:
        raise LinkError("same_account")
    issuer_key = person_key(session, issuer)
    own_key = person_key(session, account_ref)
    if issuer_key == own_key:
        raise LinkError("already")
    _join(session, issuer_key, own_key, now)
    return Linked(issuer_key, accounts_of(session, issuer))


def record_failure(session: Session, account_ref: str, now: datetime) -> None:
    session.add(LinkFailure(account_ref=account_ref, at=now))


def _join(session: Session, key: str, other_key: str, now: datetime) -> None:
    """Every account of ``other_key`` becomes part of ``key``; its keyed rows move over."""
    members = set(
        session.exec(select(AccountLink.account_ref).where(AccountLink.person_key == other_key))
    )
    members.add(other_key)
    for account in members:
        row = session.get(AccountLink, account)
        if row is None:
            row = AccountLink(account_ref=account, person_key=key, linked_at=now)
        else:
            row.person_key = key
            row.linked_at = now
        session.add(row)
    if session.get(AccountLink, key) is None:
        session.add(AccountLink(account_ref=key, person_key=key, linked_at=now))
    session.flush()
    rekey(session, other_key, key, KEYED_COLUMNS)


def unlink(session: Session, account_ref: str) -> bool:
    """Take ``account_ref`` out of its person. Rows stored under the person's key stay with the
    key; when the key's own account leaves, the others get a new key of their own."""
    account = account_for(session, account_ref)
    link = session.get(AccountLink, account)
    if link is None:
        return False
    key = link.person_key
    session.delete(link)
    session.flush()
    rest = sorted(
        session.exec(select(AccountLink.account_ref).where(AccountLink.person_key == key))
    )
    if account == key and rest:
        new_key = rest[0]
        for ref in rest:
            session.get_one(AccountLink, ref).person_key = new_key
        key = new_key
    if len(rest) <= 1:  # a person of one account needs no link row
        for ref in rest:
            session.delete(session.get_one(AccountLink, ref))
    session.flush()
    return True


# -- moving rows -----------------------------------------------------------------------------


def _table(session: Session, name: str) -> Table | None:
    from storage.models import metadata

    return metadata.tables.get(name)


def rekey(session: Session, old: str, new: str, columns: list[tuple[str, str]]) -> int:
    """Rewrite ``old`` to ``new`` in the given columns. Where a unique constraint already has a
    row for ``new`` (a vote in the same poll), that row stays and the moved one is dropped."""
    moved = 0
    for table_name, column_name in columns:
        table = _table(session, table_name)
        if table is None or column_name not in table.columns:
            continue
        moved += _move_column(session, table, column_name, old, new)
    return moved


def _move_column(session: Session, table: Table, column_name: str, old: str, new: str) -> int:
    column = table.columns[column_name]
    try:
        with session.begin_nested():
            result = session.execute(table.update().where(column == old).values({column_name: new}))
        return affected_rows(result)
    except IntegrityError:
        pass
    keys = list(table.primary_key.columns)
    moved = 0
    for row in session.execute(select(*keys).where(column == old)).all():
        match = [k == v for k, v in zip(keys, row, strict=True)]
        try:
            with session.begin_nested():
                session.execute(table.update().where(*match).values({column_name: new}))
            moved += 1
        except IntegrityError:
            session.execute(table.delete().where(*match))
    return moved


def move_account(session: Session, old: str, new: str, now: datetime) -> None:
    """Everything stored under account ref ``old`` now belongs to ``new`` (same account)."""
    from storage.models import metadata

    _merge_row(session, Chat, old, new, ("language", "title"))
    _merge_row(session, Person, old, new, ("name", "language"))
    for table in metadata.sorted_tables:
        if table.name in ("chat", "person", "account_alias"):
            continue
        for name in ACCOUNT_COLUMNS & set(table.columns.keys()):
            _move_column(session, table, name, old, new)


def _merge_row(
    session: Session, model: type[SQLModel], old: str, new: str, fields: tuple[str, ...]
) -> None:
    old_row = session.get(model, old)
    if old_row is None:
        return
    new_row = session.get(model, new)
    if new_row is None:
        # SQLModel sets __table__ on every table model but does not declare it
        columns = [c.key for c in model.__table__.columns]  # type: ignore[attr-defined]
        data = {name: getattr(old_row, name) for name in columns}
        data["ref"] = new
        session.delete(old_row)
        session.flush()
        session.add(model(**data))
    else:
        for name in fields:
            if getattr(new_row, name) is None:
                setattr(new_row, name, getattr(old_row, name))
        session.add(new_row)
        session.delete(old_row)
    session.flush()


def learn_alias(session: Session, alias_ref: str, account_ref: str, now: datetime) -> bool:
    """Remember that ``alias_ref`` (a Signal number) is ``account_ref`` (its uuid). The first
    time, rows stored under the number move to the uuid. Returns whether anything was new."""
    if alias_ref == account_ref:
        return False
    row = session.get(AccountAlias, alias_ref)
    if row is not None and row.account_ref == account_ref:
        return False
    if row is None:
        row = AccountAlias(alias_ref=alias_ref, account_ref=account_ref, learnt_at=now)
    else:  # the number now belongs to another account (numbers get reassigned)
        row.account_ref = account_ref
        row.learnt_at = now
    session.add(row)
    session.flush()
    move_account(session, alias_ref, account_ref, now)
    log.info("account alias learnt platform=%s", account_ref.partition(":")[0])
    return True


# -- upkeep and personal data ----------------------------------------------------------------


def prune(session: Session, now: datetime) -> int:
    """Delete expired codes and failures older than the rate-limit window."""
    codes = session.execute(delete(LinkCode).where(col(LinkCode.expires_at) <= now))
    fails = session.execute(delete(LinkFailure).where(col(LinkFailure.at) < now - FAILURE_WINDOW))
    return affected_rows(codes) + affected_rows(fails)


def forget_account(session: Session, account_ref: str) -> None:
    """Drop what identifies the account here: its link (the others stay linked), its aliases,
    codes and failed attempts."""
    unlink(session, account_ref)
    session.execute(
        delete(AccountAlias).where(
            or_(
                col(AccountAlias.account_ref) == account_ref,
                col(AccountAlias.alias_ref) == account_ref,
            )
        )
    )
    session.execute(delete(LinkCode).where(col(LinkCode.account_ref) == account_ref))
    session.execute(delete(LinkFailure).where(col(LinkFailure.account_ref) == account_ref))
    session.execute(delete(NetworkChoice).where(col(NetworkChoice.person_key) == account_ref))
