"""Pure calendar logic for meetings: date/time parsing, recurrence, ICS import, zone names.

Nothing in here touches storage, the clock or the network: every time-dependent function takes
``now`` (or explicit bounds) as an argument, so it is trivially testable.
"""

from __future__ import annotations

from bot.calendar.errors import CalendarError, DateParseError, IcsImportError, RecurrenceError

__all__ = ["CalendarError", "DateParseError", "IcsImportError", "RecurrenceError"]
