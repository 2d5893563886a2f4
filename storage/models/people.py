"""People behind accounts: linked accounts, Signal number aliases, one-time link codes.

An account is a private ChatRef (``telegram:42``, ``signal:<uuid>``). An account without an
``account_link`` row is a person of its own, keyed by its ref; linked accounts share the
``person_key`` of the account that handed out the code. Votes, supports and other "once per
person" rows are stored under that key (see ``storage.people``).

These tables describe people, not a network's data: they carry no ``network_id`` (one person
may belong to several networks; the key is the same in all of them).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import DateTimeField


class AccountLink(SQLModel, table=True):
    """``account_ref`` belongs to the person ``person_key`` (the ref of the first account)."""

    __tablename__ = "account_link"

    account_ref: str = Field(primary_key=True, max_length=200)
    person_key: str = Field(max_length=200, index=True)
    linked_at: datetime = DateTimeField()


class AccountAlias(SQLModel, table=True):
    """Another ref of the same account: a Signal number (``signal:+49…``) for ``signal:<uuid>``.

    signal-cli reports the number only once it has learnt it; the uuid is always there, so the
    uuid is the account and the number is remembered here (config lists and old rows use it).
    """

    __tablename__ = "account_alias"

    alias_ref: str = Field(primary_key=True, max_length=200)
    account_ref: str = Field(max_length=200, index=True)
    learnt_at: datetime = DateTimeField()


class LinkCode(SQLModel, table=True):
    """A one-time code from ``/verknuepfen``; only its SHA-256 is stored, for 10 minutes."""

    __tablename__ = "link_code"

    code_hash: str = Field(primary_key=True, max_length=64)
    account_ref: str = Field(max_length=200, index=True)
    created_at: datetime = DateTimeField()
    expires_at: datetime = DateTimeField(index=True)


class LinkFailure(SQLModel, table=True):
    """A wrong or expired code sent by ``account_ref`` (rate limit against guessing)."""

    __tablename__ = "link_failure"

    id: int | None = Field(default=None, primary_key=True)
    account_ref: str = Field(max_length=200, index=True)
    at: datetime = DateTimeField(index=True)
