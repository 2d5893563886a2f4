"""Who counts: one person behind one or more accounts (``telegram:42``, ``signal:<uuid>``)."""

from __future__ import annotations

from sqlmodel import Session

from bot.types import ChatRef


def person_key(session: Session, account: ChatRef | str) -> str:
    """The person's key for votes and registrations (linked accounts count once).

    Uses ``storage.people.person_key`` of the networks work once it exists; until then an
    account is a person.
    """
    try:
        from storage import people  # type: ignore[attr-defined]
    except ImportError:
        return str(account)
    return people.person_key(session, str(account))
