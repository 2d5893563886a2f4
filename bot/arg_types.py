"""Typed command arguments, declared once: item numbers, counts, durations, dates and times.

A handler names what it takes (``MEETING.parse(args.get(0))``, ``DURATION.parse(text)``) and gets
a value or a user-visible error (``bot.errors``) with a catalog key, so every command answers bad
input the same way in German (du/Sie) and English. The rules, for every argument:

- digits are plain ASCII ``0-9``: ``²``, ``١٢`` or ``１２`` are no numbers (``str.isdigit`` says
  yes to them and ``int`` then fails or reads something else);
- an item number may be written ``12`` or ``#12``; one no item can have (``0``, or beyond the
  database's id range such as a 20-digit number) is "not found", like a lookup would say;
- ``-1``, ``1.5``, ``1e3``, ``abc`` are not numbers: the command's usage message.

Handlers never parse numbers, durations or dates by hand (``tests/test_arg_types.py`` checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import durations, numbers
from bot.calendar import dates
from bot.calendar.errors import CalendarError
from bot.errors import InvalidInput, NotFound, UsageError, UserError
from bot.excerpt import excerpt

ID_MAX = numbers.ID_MAX


def is_number(word: str | None) -> bool:
    """Whether ``word`` is written as a number (``12``, ``#12``), whatever its size."""
    return numbers.parse_number(word) is not None


@dataclass(frozen=True)
class ItemNumber:
    """The number of a stored item: ``12`` or ``#12``.

    ``invalid``: the usage text when the word is no number (gets ``value``); ``missing``: when
    nothing was typed (default: ``invalid``); ``not_found``: for a number no item can have
    (gets ``n``, the typed digits cut short)."""

    not_found: str
    invalid: str = "core.error.usage"
    missing: str | None = None

    def parse(self, word: str | None) -> int:
        if word is None or not word.strip():
            raise UsageError(self.missing or self.invalid, value="")
        number = numbers.parse_number(word)
        if number is None:
            raise UsageError(self.invalid, value=excerpt(word.strip()))
        if not numbers.in_id_range(number):
            raise NotFound(self.not_found, n=excerpt(word.strip().lstrip("#")))
        return number

    def find(self, word: str | None) -> int | None:
        """The number if ``word`` is one an item can have, else None (for words that may be
        something else: ``termin=letzte``, a button's data)."""
        number = numbers.parse_number(word)
        return number if number is not None and numbers.in_id_range(number) else None


@dataclass(frozen=True)
class Count:
    """A whole number from ``low`` to ``high`` (None: no upper bound), e.g. how many meetings
    to list, seats, points to give. Out of range or no number: ``error(key, value=…, **extra)``
    where ``extra`` fills the text's other placeholders (the limits)."""

    key: str
    low: int = 1
    high: int | None = None
    error: type[UserError] = UsageError
    extra: tuple[tuple[str, Any], ...] = ()

    def parse(self, word: str | None) -> int:
        number = numbers.parse_number(word)
        if number is None or number < self.low or (self.high is not None and number > self.high):
            raise self.error(self.key, value=excerpt((word or "").strip()), **dict(self.extra))
        return number

    def up_to(self, high: int, **extra: Any) -> Count:
        """The same kind of count with a bound known only at run time (a poll's options)."""
        return Count(
            self.key, self.low, high, self.error, tuple({**dict(self.extra), **extra}.items())
        )


def number_in(
    key: str,
    low: int = 1,
    high: int | None = None,
    error: type[UserError] = UsageError,
    **extra: Any,
) -> Count:
    """Declare a count: ``number_in("news.count_bad", high=20, max=20)``."""
    return Count(key, low, high, error, tuple(extra.items()))


def option_number(word: str, options: int) -> int | None:
    """``'2'`` -> 1 for a list of ``options`` choices numbered from 1; None when it names none
    (a no-number is left to the caller, who may read it as a letter)."""
    number = numbers.parse_number(word)
    return number - 1 if number is not None and 1 <= number <= options else None


@dataclass(frozen=True)
class Duration:
    """A duration as people type it (``90s``, ``2h``, ``1 Std 30 Min``, ``1,5 Stunden``);
    ``bare``: the unit of a number typed alone (``dauer=90`` is 90 minutes), None: refused.
    Must lie in ``(low, high]``; else ``InvalidInput(key, value=…)``."""

    key: str
    high: timedelta
    low: timedelta = timedelta(0)
    bare: timedelta | None = None

    def parse(self, text: str) -> timedelta:
        value = text.strip().lower()
        number = numbers.parse_number(value) if self.bare is not None else None
        try:
            if number is not None and self.bare is not None:
                duration = self.bare * number
            else:
                duration = durations.parse_duration(value)
        except (ValueError, OverflowError):
            raise InvalidInput(self.key, value=excerpt(text.strip())) from None
        if not self.low < duration <= self.high:
            raise InvalidInput(self.key, value=excerpt(text.strip()))
        return duration


@dataclass(frozen=True)
class Durations:
    """Several durations, every number with its unit one (reminder lead times:
    ``1 Tag 2 Std`` = one day and two hours); each in ``[low, high]``."""

    key: str
    low: timedelta
    high: timedelta

    def parse(self, text: str) -> list[timedelta]:
        try:
            found = durations.split_durations(text)
        except ValueError:
            raise InvalidInput(self.key, value=excerpt(text.strip())) from None
        if not all(self.low <= one <= self.high for one in found):
            raise InvalidInput(self.key, value=excerpt(text.strip()))
        return found


def _invalid(exc: CalendarError) -> InvalidInput:
    return InvalidInput(exc.key, **exc.params)


class DateArg:
    """A date: ``3.12.2030``, ``3.12.``, ``2030-12-03``, ``heute``, ``morgen`` (a day that does not
    exist, ``31.02.2027``, is refused with an example)."""

    def parse(self, text: str, today: date) -> date:
        try:
            return dates.parse_date(text, today)
        except CalendarError as exc:
            raise _invalid(exc) from exc

    def find(self, text: str, today: date) -> date | None:
        """The date, or None when ``text`` is none (it may be something else)."""
        try:
            return dates.parse_date(text, today)
        except CalendarError:
            return None


class TimeArg:
    """A time of day: ``18:00``, ``18.30``, ``18 Uhr``, ``18h``."""

    def parse(self, text: str) -> time:
        try:
            return dates.parse_time(text)
        except CalendarError as exc:
            raise _invalid(exc) from exc


class DateTimeArg:
    """A date with a time (``3.12.2030 18:00``, ``2030-12-03T18:00``), in ``tz``."""

    def parse(self, text: str, tz: ZoneInfo, now: datetime) -> datetime:
        """The whole text is the date and time; more words are an error."""
        try:
            return dates.parse_datetime(text, tz, now)
        except CalendarError as exc:
            raise _invalid(exc) from exc

    def take(self, words: list[str], tz: ZoneInfo, now: datetime) -> tuple[datetime, int]:
        """The date and time at the start of ``words`` and how many words they took."""
        try:
            return dates.parse_when(words, tz, now)
        except CalendarError as exc:
            raise _invalid(exc) from exc

    def at(self, day: date, at: time, tz: ZoneInfo) -> datetime:
        """``day`` at ``at`` in ``tz``; a time the clocks skip (DST) is refused."""
        try:
            return dates.localize(datetime.combine(day, at), tz)
        except CalendarError as exc:
            raise _invalid(exc) from exc


DATE = DateArg()
TIME = TimeArg()
DATETIME = DateTimeArg()
DATETIME_EXAMPLE = dates.DATETIME_EXAMPLE

# -- the arguments commands take, declared once -------------------------------------------------
MEETING = ItemNumber(
    "meetings.error.not_found", "meetings.error.number", missing="meetings.error.number_missing"
)
DOCUMENT = ItemNumber("documents.not_found", "documents.error.number")
QUESTION = ItemNumber("questions.not_found", "questions.error.number")
POLL = ItemNumber("polls.not_found", "polls.error.poll_number")
ANNOUNCEMENT = ItemNumber("mail.error.not_found", "mail.error.number")
