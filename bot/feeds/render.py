"""News texts in neutral markup: immediate posts, digests, /news lines, error explanations.

Everything from a feed is plain text here and escaped by ``Markup.format``; a feed can never
inject markup into a chat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import i18n
from bot.i18n.dates import format_clock, format_datetime_long
from bot.markup import Markup, join, link


class ItemLike(Protocol):
    """Read-only view (dataclasses, frozen ones and SQLModel rows all fit)."""

    @property
    def title(self) -> str: ...

    @property
    def link(self) -> str | None: ...

    @property
    def summary(self) -> str: ...

    @property
    def published(self) -> datetime | None: ...


def post(item: ItemLike, source: str, lang: str, tz: ZoneInfo) -> Markup:
    """Title (bold), source and date, summary, link. An item without a date of its own gets
    none: the time we first saw it would pass a years-old item off as today's news."""
    when = item.published
    date = format_datetime_long(when, lang, tz) if when else ""
    meta = (
        i18n.t(lang, "news.post.meta", source=source, date=date) if date else Markup.escape(source)
    )
    parts: list[Markup | str] = [Markup("<b>{}</b>").format(item.title), meta]
    if item.summary:
        parts.append(item.summary)
    if item.link:
        parts.append(link(item.link, item.link))
    return join(parts)


def digest(entries: Iterable[tuple[ItemLike, str]], lang: str) -> Markup:
    """One message listing ``(item, source)`` pairs."""
    rows = list(entries)
    lines: list[Markup | str] = [i18n.tn(lang, "news.digest.header", len(rows))]
    for item, source in rows:
        target = link(item.link, item.link) if item.link else ""
        lines.append(i18n.t(lang, "news.digest.line", title=item.title, source=source, link=target))
    return join(lines)


def list_line(item: ItemLike, source: str, lang: str, tz: ZoneInfo) -> Markup:
    """One ``/news`` line; undated items show no date (see ``post``)."""
    target = link(item.link, item.link) if item.link else ""
    if item.published is None:
        return i18n.t(lang, "news.list.line_undated", title=item.title, source=source, link=target)
    return i18n.t(
        lang,
        "news.list.line",
        title=item.title,
        source=source,
        date=format_datetime_long(item.published, lang, tz),
        link=target,
    )


def mode_text(mode: str, lang: str, digest_at: time) -> Markup:
    if mode == "digest":
        return i18n.t(lang, "news.mode.digest", time=format_clock(digest_at, lang))
    return i18n.t(lang, "news.mode.immediate")


def error_text(lang: str, code: str, params: Mapping[str, object] | None = None) -> Markup:
    """Explain a feed failure (``FeedError.code`` / ``.params``) in ``lang``."""
    values = dict(params or {})
    if code == "refused_address":
        values["kind"] = i18n.t(lang, f"news.address_kind.{values.get('kind', 'not_global')}")
    key = f"news.error.{code}"
    if not i18n.has(key, lang):
        key = "news.error.failed"
    return i18n.t(lang, key, **values)
