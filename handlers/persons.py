"""Who counts: one person behind one or more accounts (``telegram:42``, ``signal:<uuid>``)."""

from __future__ import annotations

from sqlmodel import Session

from bot.types import ChatRef
from storage import people


def person_key(session: Session, account: ChatRef | str) -> str:
    """The person's key for votes and registrations (linked accounts count once)."""
    return people.person_key(session, str(account))
