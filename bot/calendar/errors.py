"""Typed errors of the calendar package.

Each error carries a catalog ``key`` (domain ``meetings``) plus the keyword arguments the text
needs, so a handler can turn it into a German or English message with ``UserError(e.key,
**e.params)`` without parsing strings. ``str(e)`` is an English fallback for logs and the CLI.
"""

from __future__ import annotations

from typing import Any


class CalendarError(ValueError):
    """Base class: bad user input or a broken calendar file."""

    key = "meetings.error.calendar"

    def __init__(self, message: str, *, key: str | None = None, **params: Any) -> None:
        super().__init__(message)
        if key is not None:
            self.key = key
        self.params: dict[str, Any] = params


class DateParseError(CalendarError):
    """A date or time the user typed could not be understood.

    ``params`` always holds ``value`` (what was typed) and ``example`` (a correct form).
    """

    key = "meetings.error.date"


class RecurrenceError(CalendarError):
    """A repetition rule (``wiederholen=…``) could not be understood."""

    key = "meetings.error.repeat"


class IcsImportError(CalendarError):
    """An ICS file or URL could not be read as a calendar; ``params['reason']`` says why."""

    key = "meetings.error.ics"
