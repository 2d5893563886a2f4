"""News feeds in chats: /feed_neu, /feeds, /feed_weg, /feed_test, /news and ``/abo news``."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot import i18n, subscription_kinds
from bot.arg_types import number_in
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import UsageError, UserError
from bot.feeds import render
from bot.feeds.errors import FeedError
from bot.feeds.filters import KeywordFilter, parse_keywords
from bot.feeds.parse import ParsedFeed, parse_feed
from bot.markup import Markup, join
from bot.net.guard import AddressPolicy
from bot.net.http import check_url
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.redact import redact_url
from bot.types import Permission
from storage import news as store_news
from storage import subscriptions
from storage.models.core import Subscription

KEYWORD_OPTIONS = ("stichwoerter", "stichwörter", "stichworte", "keywords")
EXCLUDE_OPTIONS = ("ausser", "außer", "ohne", "exclude")
MODE_OPTIONS = ("modus", "mode")
MODES = {
    "sofort": store_news.IMMEDIATE,
    "immediate": store_news.IMMEDIATE,
    "direkt": store_news.IMMEDIATE,
    "digest": store_news.DIGEST,
    "zusammenfassung": store_news.DIGEST,
    "täglich": store_news.DIGEST,
    "daily": store_news.DIGEST,
}
NEWS_DEFAULT, NEWS_MAX = 5, 20
NEWS_COUNT = number_in("news.count_bad", high=NEWS_MAX, max=NEWS_MAX)  # /news 10
# /feed_weg N: the feed's place in /feeds (0 and places past the end: "not found" with the count)
FEED_POSITION = number_in("news.remove.which", low=0)


def _option(args: Args, names: tuple[str, ...]) -> str | None:
    return next((args.options[n] for n in names if n in args.options), None)


def _mode(value: str | None) -> str:
    if value is None:
        return store_news.IMMEDIATE
    mode = MODES.get(value.strip().lower())
    if mode is None:
        raise UsageError("news.mode.bad", value=value)
    return mode


def feed_failure(ctx: Context, error: FeedError) -> UserError:
    """A ``FeedError`` as a message in the chat's language (the reason, not just "failed")."""
    params: dict[str, Any] = dict(error.params)
    if error.code == "refused_address":
        params["kind"] = ctx.t(f"news.address_kind.{params.get('kind', 'not_global')}")
    key = error.message_key if i18n.has(error.message_key, ctx.lang) else "news.error.failed"
    return UserError(key, **params)


async def fetch_feed(ctx: Context, url: str) -> ParsedFeed:
    """Fetch and parse ``url`` now; every failure becomes a ``UserError`` with its reason."""
    news = ctx.config.news
    policy = AddressPolicy(
        allow_private=news.allow_private_addresses,
        allowed_networks=news.allowed_networks,
    )
    fetcher = ctx.services.news_fetcher  # the app's: one HTTP session, closed at exit
    try:
        check_url(url, policy)  # refused before any request
        result = await fetcher.fetch(url)
        # parsing is CPU work (seconds for a huge feed): off the loop that serves every chat
        return await asyncio.to_thread(
            parse_feed, result.body or b"", url=result.final_url, headers=result.headers
        )
    except FeedError as exc:
        raise feed_failure(ctx, exc) from exc


def _filters_text(ctx: Context, keywords: list[str], exclude: list[str]) -> Markup:
    text = Markup("")
    if keywords:
        text += ctx.t("news.filters", keywords=", ".join(keywords))
    if exclude:
        text += ctx.t("news.filters_exclude", exclude=", ".join(exclude))
    return text


def _url(args: Args, command_name: str) -> str:
    if not args.positional:
        raise UsageError("news.url_missing", cmd=command_name)
    return args.positional[0].strip("<>")


@command(
    "feed_neu",
    "feed_add",
    help="news.help.feed_neu",
    usage="news.usage.feed_neu",
    permission=Permission.ADMIN,
    options=(*KEYWORD_OPTIONS, *EXCLUDE_OPTIONS, *MODE_OPTIONS, "name"),
    section="news",
)
async def feed_neu(ctx: Context, args: Args) -> Markup:
    url = _url(args, "feed_add" if ctx.lang == "en" else "feed_neu")
    mode = _mode(_option(args, MODE_OPTIONS))
    keywords = list(parse_keywords(_option(args, KEYWORD_OPTIONS)))
    exclude = list(parse_keywords(_option(args, EXCLUDE_OPTIONS)))
    parsed = await fetch_feed(ctx, url)
    with ctx.store.session() as session:
        feed = store_news.ensure_feed(session, url, ctx.now, name=args.options.get("name"))
        feed.title = parsed.title[:300]
        if not feed.last_polled:
            feed.next_poll = ctx.now
        session.add(feed)
        store_news.set_target(
            session,
            feed,
            ctx.chat,
            ctx.now,
            network_id=ctx.network_id,
            mode=mode,
            keywords=keywords,
            exclude=exclude,
            source="chat",
            added_by=str(ctx.sender.ref),
            wake=True,
        )
        name = feed.display_name
    return ctx.t(
        "news.added",
        name=name,
        mode=render.mode_text(mode, ctx.lang, ctx.config.news.digest_at),
        filters=_filters_text(ctx, keywords, exclude),
        backfill=ctx.config.news.backfill,
    )


@command("feeds", help="news.help.feeds", section="news")
async def feeds(ctx: Context, args: Args) -> Markup:
    with ctx.store.session() as session:
        rows = store_news.targets_of_chat(session, ctx.chat)
    if not rows:
        return ctx.t("news.feeds.empty")
    lines: list[Markup | str] = [ctx.t("news.feeds.header")]
    for n, (target, feed) in enumerate(rows, start=1):
        state: Markup | str = ""
        if feed.failures:
            error = render.error_text(
                ctx.lang, feed.error_code or "failed", _params(feed.last_error)
            )
            key = "news.state.paused" if feed.paused else "news.state.failing"
            state = ctx.t(key, n=feed.failures, error=error)
        filters = _filters_text(
            ctx, store_news.words(target.keywords), store_news.words(target.exclude)
        )
        if target.source == "config":
            filters += ctx.t("news.feeds.config")
        lines.append(
            ctx.t(
                "news.feeds.line",
                n=n,
                name=feed.display_name,
                mode=render.mode_text(target.mode, ctx.lang, ctx.config.news.digest_at),
                filters=filters,
                state=state,
                url=redact_url(feed.url),
            )
        )
    lines.append(ctx.t("news.feeds.footer"))
    return join(lines)


def _params(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@command(
    "feed_weg",
    "feed_remove",
    help="news.help.feed_weg",
    usage="news.usage.feed_weg",
    permission=Permission.ADMIN,
    section="news",
)
async def feed_weg(ctx: Context, args: Args) -> Markup:
    n = FEED_POSITION.parse(args.get(0))
    with ctx.store.session() as session:
        rows = store_news.targets_of_chat(session, ctx.chat)
        if not 1 <= n <= len(rows):
            raise UserError("news.remove.not_found", n=n, count=len(rows))
        target, feed = rows[n - 1]
        if target.source == "config":
            raise UserError("news.config_feed")
        target.active = False
        session.add(target)
        name = feed.display_name
    return ctx.t("news.removed", name=name)


@command(
    "feed_test",
    help="news.help.feed_test",
    usage="news.usage.feed_test",
    permission=Permission.ADMIN,
    section="news",
)
async def feed_test(ctx: Context, args: Args) -> Markup:
    url = _url(args, "feed_test")
    parsed = await fetch_feed(ctx, url)
    if not parsed.items:
        return ctx.t("news.test.empty", name=parsed.title)
    parts: list[Markup | str] = [ctx.tn("news.test.header", len(parsed.items), name=parsed.title)]
    for item in reversed(parsed.newest(max(1, ctx.config.news.backfill))):
        parts += ["", render.post(item, parsed.title, ctx.lang, ctx.tz)]
    if parsed.warning:
        parts += ["", ctx.t("news.test.warning", warning=parsed.warning.split(":")[0])]
    return join(parts)


@command("news", "latest", help="news.help.news", usage="news.usage.news", section="news")
async def news(ctx: Context, args: Args) -> Markup:
    count = NEWS_DEFAULT
    if args.positional:
        count = NEWS_COUNT.parse(args.positional[0])
    with ctx.store.session() as session:
        rows = store_news.targets_of_chat(session, ctx.chat)
        filters = {
            feed.id: KeywordFilter.of(
                store_news.words(target.keywords), store_news.words(target.exclude)
            )
            for target, feed in rows
            if feed.id is not None
        }
        if not rows:
            sub = subscriptions.get(session, ctx.chat, "news", network_id=ctx.network_id)
            if sub is None or not sub.active:
                return ctx.t("news.list.no_feeds")
            personal = KeywordFilter.of(subscriptions.options(sub).get("keywords") or ())
            followed = store_news.all_followed_feeds(session, network_id=ctx.network_id)
            filters = {feed_id: personal for feed_id in followed}
        items = store_news.latest_items(session, list(filters), count * 5)
    shown = [(i, f) for i, f in items if filters[i.feed_id].matches(i.title, i.summary)][:count]
    if not shown:
        return ctx.t("news.list.empty")
    lines: list[Markup | str] = [*ctx.network_header(), ctx.t("news.list.header")]
    lines += [render.list_line(i, f.display_name, ctx.lang, ctx.tz) for i, f in shown]
    return join(lines)


# -- /abo news ---------------------------------------------------------------------------------


async def subscribe_news(ctx: Context, args: Args) -> Markup:
    """``/abo news klima verkehr modus=digest`` (or ``stichwoerter=klima,verkehr``)."""
    words: list[str] = []
    mode = store_news.IMMEDIATE
    for word in args.positional:
        key, sep, value = word.partition("=")
        if sep and key.lower() in MODE_OPTIONS:
            mode = _mode(value)
        elif sep and key.lower() in KEYWORD_OPTIONS:
            words.append(value)
        else:
            words.append(word)
    keywords = list(parse_keywords(words))
    with ctx.store.session() as session:
        subscriptions.subscribe(
            session,
            ctx.chat,
            "news",
            ctx.now,
            network_id=ctx.network_id,
            person=ctx.sender.ref,
            options={"keywords": keywords, "mode": mode},
        )
    mode_text = render.mode_text(mode, ctx.lang, ctx.config.news.digest_at)
    if keywords:
        return ctx.t("news.abo.done", keywords=", ".join(keywords), mode=mode_text)
    return ctx.t("news.abo.done_all", mode=mode_text)


def describe_news(ctx: Context, row: Subscription) -> str:
    opts = subscriptions.options(row)
    keywords = ", ".join(opts.get("keywords") or ()) or ctx.t("news.abo.all")
    mode = render.mode_text(opts.get("mode", "immediate"), ctx.lang, ctx.config.news.digest_at)
    return str(ctx.t("news.abo.describe", mode=mode, keywords=keywords))


subscription_kinds.register(
    subscription_kinds.SubscriptionKind(
        kind="news",
        names=("news", "nachrichten"),
        help="news.abo.help",
        subscribe=subscribe_news,
        describe=describe_news,
        private_only=True,
    )
)


# -- personal data -------------------------------------------------------------------------------
def _describe_news(session: Session, ref: str, lang: str) -> list[Markup]:
    lines = [
        i18n.t(
            lang,
            "privacy.data.feed_private" if target.chat_ref == ref else "privacy.data.feed_added",
            name=feed.display_name,
            chat=target.chat_ref,
        )
        for target, feed in store_news.feeds_of_person(session, ref)
    ]
    pending, posted = store_news.news_counts(session, ref)
    if pending:
        lines.append(i18n.tn(lang, "privacy.data.news_pending", pending))
    if posted:
        lines.append(i18n.tn(lang, "privacy.data.news_posted", posted))
    return lines


def _forget_news(session: Session, ref: str, names: set[str], now: datetime) -> None:
    store_news.forget_chat(session, ref)


register_personal_data(PersonalDataSource("news", _describe_news, _forget_news))
