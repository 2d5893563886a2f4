"""The seats line shown with a meeting: "123 von 200 Plätzen belegt · …" (no cycle with
``handlers.registration``, which needs ``handlers.meetings``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import i18n
from bot.i18n.dates import format_datetime_long
from bot.markup import Markup
from storage import registration as store


def seats_line(lang: str, seats: store.Seats, tz: ZoneInfo, now: datetime) -> Markup | None:
    """'123 von 200 Plätzen belegt · 4 auf der Warteliste · Anmeldung bis …' (None: nothing)."""
    if seats.capacity is None and not seats.registered and seats.closes_at is None:
        return None
    if seats.capacity is None:
        parts = [i18n.tn(lang, "registration.seats.open", seats.registered)]
    else:
        parts = [i18n.tn(lang, "registration.seats.taken", seats.capacity, taken=seats.registered)]
    if seats.waiting:
        parts.append(i18n.tn(lang, "registration.seats.waiting", seats.waiting))
    if seats.closes_at is not None:
        when = format_datetime_long(seats.closes_at, lang, tz)
        key = "registration.seats.closed" if now >= seats.closes_at else "registration.seats.until"
        parts.append(i18n.t(lang, key, when=when))
    return Markup(" · ").join(parts)
