"""What the IMAP reader last saw, for ``/healthz`` (one process reads the list: the leader)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class ImapStatus:
    configured: bool = False
    last_ok: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    retry_at: datetime | None = None
    failures: int = 0
    forwarded: int = 0
    skipped: int = 0

    def report(self) -> dict[str, Any]:
        if not self.configured:
            return {"state": "off"}
        state = "down" if self.last_error else ("up" if self.last_ok else "starting")
        info: dict[str, Any] = {"state": state, "last_check": self.last_ok}
        if self.last_error:
            info.update(error=self.last_error, error_at=self.last_error_at, retry_at=self.retry_at)
        info.update(forwarded=self.forwarded, skipped=self.skipped)
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in info.items()}


IMAP = ImapStatus()


def reset() -> None:
    """Forget the reader's state (a new process; tests)."""
    global IMAP
    IMAP = ImapStatus()
