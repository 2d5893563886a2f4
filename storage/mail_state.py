"""Small pieces of e-mail state kept in the ``setting`` table: since when a list gets mails,
and how far the IMAP folder has been read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.models.core import Setting


def get(session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    if row is None:
        return None
    try:
        return json.loads(row.value)
    except ValueError:
        return None


def put(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key[:100], value=json.dumps(value))
    else:
        row.value = json.dumps(value)
    session.add(row)


def list_since(session: Session, address: str, now: datetime) -> datetime:
    """When the bot first saw this list configured: recordings and news from before then are
    not mailed (a newly added list gets no backlog)."""
    key = f"mail.since:{address}"
    value = get(session, key)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    put(session, key, now.isoformat())
    return now
