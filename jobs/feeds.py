"""Polling news feeds: config feeds synced into the store, due feeds fetched concurrently,
new items posted once per chat (immediately through the outbox, or queued for the digest),
failing feeds backed off, their admins told once, paused after many failures.

All state changes of one feed (validators, seen items, posted links, outbox rows) are written
in one transaction, so a crash repeats nothing and loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import metrics
from bot.access import network_id_by_key
from bot.chat_language import language_of
from bot.config import Config
from bot.feeds import render
from bot.feeds.errors import FeedError
from bot.feeds.fetch import FeedFetcher, Validators
from bot.feeds.filters import KeywordFilter
from bot.feeds.parse import FeedItem as ParsedItem
from bot.feeds.parse import newest
from bot.feeds.poll import PollOutcome, poll_many
from bot.i18n import t
from bot.redact import redact_url
from bot.retry import Backoff
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import chats, outbox, subscriptions
from storage import news as store_news
from storage.models.news import Feed, FeedItem

log = logging.getLogger(__name__)

NOTICE_AFTER = 3  # consecutive failures before the admins hear about it
PAUSE_AFTER = 10  # consecutive failures before the feed is paused
MAX_BACKOFF = timedelta(days=1)
MAX_BACKOFF_SECONDS = MAX_BACKOFF.total_seconds()
SUBSCRIPTION_KIND = "news"


def poll_interval(config: Config) -> timedelta:
    interval = config.news.poll_interval
    if interval < timedelta(minutes=1):
        log.warning(
            "[news] poll_interval is %ss: fine for tests, impolite to real feed servers "
            "(use '15m' or more)",
            int(interval.total_seconds()),
        )
    return interval


def chat_lang(session: Session, chat: str, config: Config) -> str:
    return language_of(session, chat, config)  # the chat's choice, its network's anrede, [bot]


def outbox_key(kind: str, chat: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join([chat, *map(str, parts)]).encode()).hexdigest()[:40]
    return f"{kind}:{digest}"


# -- config ------------------------------------------------------------------------------------


def sync_config(session: Session, config: Config, now: datetime) -> None:
    """Make the store follow ``[[feeds]]``: add/update their chats, retire removed ones."""
    wanted: set[int] = set()
    for entry in config.feeds:
        feed = store_news.ensure_feed(session, entry.url.strip(), now, name=entry.name)
        network_id = network_id_by_key(session, config, config.network_of_entry(entry), now)
        for chat in entry.post_to:
            target = store_news.set_target(
                session,
                feed,
                chat,
                now,
                network_id=network_id,
                mode=entry.mode,
                keywords=entry.keywords,
                exclude=entry.exclude,
                source="config",
            )
            assert target.id is not None
            wanted.add(target.id)
    for target in store_news.config_targets(session):
        if target.active and target.id not in wanted:
            target.active = False
            session.add(target)


# -- one feed's outcome --------------------------------------------------------------------------


def deliver(
    session: Session,
    config: Config,
    chat: str,
    mode: str,
    row: FeedItem,
    item: ParsedItem,
    source: str,
    now: datetime,
) -> bool:
    """Post ``item`` to ``chat`` (or queue it for the digest) unless the chat had it already."""
    if not chats.is_active(session, ChatRef.parse(chat)):
        return False
    assert row.id is not None
    if store_news.posted_from_another_feed(session, chat, row.link_key, row.feed_id):
        return False  # the same article came through another feed
    if not store_news.mark_posted(
        session, chat, store_news.item_key(row.feed_id, row.key), row.id, now
    ):
        return False
    if mode == store_news.DIGEST:
        store_news.queue_for_digest(session, chat, row.id, now)
        return True
    text = render.post(item, source, chat_lang(session, chat, config), config.tz)
    out = Outgoing(
        ChatRef.parse(chat), str(text), outbox_key("news", chat, row.feed_id, row.key), kind="news"
    )
    outbox.enqueue(session, out, now)
    return True


def oldest_first(items: list[ParsedItem], n: int | None = None) -> list[ParsedItem]:
    chosen = newest(items, len(items) if n is None else n)
    return list(reversed(chosen))


def process_items(
    session: Session, config: Config, feed: Feed, items: tuple[ParsedItem, ...], now: datetime
) -> int:
    """Store unseen items and hand them to the feed's chats and personal subscribers.
    Returns how many posts/digest entries were made."""
    assert feed.id is not None
    first_poll = feed.last_ok is None
    known = store_news.items_by_key(session, feed.id, [i.key for i in items])
    rows: dict[str, FeedItem] = dict(known)
    fresh: list[ParsedItem] = []
    for item in items:
        if item.key in rows:
            continue  # seen before: edited text or date does not make it new
        row = FeedItem(
            feed_id=feed.id,
            key=item.key,
            title=item.title[:300],
            link=item.link,
            link_key=store_news.link_key(feed.id, item.key, item.norm_link),
            summary=item.summary,
            published=item.published,
            first_seen=now,
        )
        session.add(row)
        rows[item.key] = row
        fresh.append(item)
    session.flush()
    source = feed.display_name
    made = 0
    targets = store_news.targets_of_feed(session, feed.id)
    for target in targets:
        flt = KeywordFilter.of(store_news.words(target.keywords), store_news.words(target.exclude))
        if target.primed:
            chosen = oldest_first([i for i in fresh if flt.matches(i.title, i.summary)])
        else:  # first poll for this chat: only the newest few, never the archive
            matching = [i for i in items if flt.matches(i.title, i.summary)]
            chosen = oldest_first(matching, config.news.backfill)
            target.primed = True
            session.add(target)
        for item in chosen:
            made += deliver(
                session, config, target.chat_ref, target.mode, rows[item.key], item, source, now
            )
    # personal news subscribers: of the networks that follow this feed
    followed_by = {target.network_id for target in targets}
    for sub in subscriptions.active(session, SUBSCRIPTION_KIND, network_ids=followed_by):
        opts = subscriptions.options(sub)
        flt = KeywordFilter.of(opts.get("keywords") or ())
        matching = [i for i in fresh if flt.matches(i.title, i.summary)]
        chosen = oldest_first(matching, config.news.backfill if first_poll else None)
        mode = store_news.DIGEST if opts.get("mode") == store_news.DIGEST else store_news.IMMEDIATE
        for item in chosen:
            made += deliver(session, config, sub.chat_ref, mode, rows[item.key], item, source, now)
    return made


def record_success(
    session: Session, config: Config, feed: Feed, outcome: PollOutcome, now: datetime
) -> int:
    result = outcome.result
    assert result is not None
    feed.etag = result.validators.etag
    feed.last_modified = result.validators.last_modified
    feed.body_hash = result.validators.body_hash
    made = 0
    if outcome.feed is not None:
        if outcome.feed.title:
            feed.title = outcome.feed.title[:300]
        if outcome.feed.warning:
            log.info("feed %s is not well-formed: %s", feed.id, outcome.feed.warning[:200])
        made = process_items(session, config, feed, outcome.feed.items, now)
    feed.failures, feed.notified, feed.error_code, feed.last_error = 0, False, None, None
    feed.last_ok = now
    feed.next_poll = now + config.news.poll_interval
    if result.permanent_redirect:
        log.info("feed %s moved permanently (new address on the same or another host)", feed.id)
    return made


def backoff(config: Config) -> Backoff:
    """Twice the poll interval after the first failure, doubling up to a day, up to a tenth
    less so that the feeds of a host that was down do not all come back in the same tick; a
    longer Retry-After is honoured up to a day."""
    return Backoff(
        first=2 * config.news.poll_interval.total_seconds(),
        cap=MAX_BACKOFF_SECONDS,
        jitter=0.1,
    )


def spread(feed: Feed) -> float:
    """The feed's jitter: differs between feeds, the same on every run (tests can rely on it)."""
    return random.Random(f"{feed.id}:{feed.failures}").random()


def record_failure(
    session: Session, config: Config, feed: Feed, error: FeedError, now: datetime
) -> None:
    feed.failures += 1
    feed.error_code = error.code
    metrics.FEED_ERRORS.inc(feed=redact_url(feed.url))
    feed.last_error = json.dumps(error.params, ensure_ascii=False, default=str)
    retry_after = error.params.get("retry_after")
    hint = min(retry_after, MAX_BACKOFF_SECONDS) if isinstance(retry_after, int) else None
    wait = timedelta(seconds=backoff(config).after(feed.failures, hint, lambda: spread(feed)))
    feed.next_poll = now + wait
    log.warning(
        "feed failed feed=%s failures=%d next_in=%s error=%s",
        feed.id,
        feed.failures,
        wait,
        error,
    )
    if feed.failures >= PAUSE_AFTER:
        feed.paused = True
        notify(session, config, feed, "news.notice.paused", now)
    elif feed.failures >= NOTICE_AFTER and not feed.notified:
        feed.notified = True
        notify(session, config, feed, "news.notice.failing", now)


def notify(session: Session, config: Config, feed: Feed, key: str, now: datetime) -> None:
    """One notice per failure streak to every chat following the feed (addressed to its
    admins) and, for feeds from the config, to the owners."""
    assert feed.id is not None
    streak = (feed.last_ok or feed.created_at).isoformat()
    params = json.loads(feed.last_error or "{}")
    targets = store_news.targets_of_feed(session, feed.id)
    recipients = [target.chat_ref for target in targets]
    if any(target.source == "config" for target in targets):
        recipients += [o for o in config.bot.owners if o not in recipients]  # they edit the config
    for chat in recipients:
        lang = chat_lang(session, chat, config)
        text = t(
            lang,
            key,
            name=feed.display_name,
            url=redact_url(feed.url),
            n=feed.failures,
            error=render.error_text(lang, feed.error_code or "failed", params),
        )
        dedupe = outbox_key("news-notice", chat, feed.id, streak, key)
        out = Outgoing(ChatRef.parse(chat), str(text), dedupe, kind="notice")
        outbox.enqueue(session, out, now)


# -- the tick ----------------------------------------------------------------------------------


async def poll_feeds(jc: JobContext, now: datetime, fetcher: FeedFetcher | None = None) -> int:
    """Poll every due feed once. Returns how many posts/digest entries were made."""
    config = jc.config
    with jc.store.session() as session:
        sync_config(session, config, now)
        requests: list[tuple[int, str, Validators | None]] = []
        for feed in store_news.due_feeds(session, now):
            assert feed.id is not None
            unprimed = any(not t.primed for t in store_news.targets_of_feed(session, feed.id))
            validators = (
                None if unprimed else Validators(feed.etag, feed.last_modified, feed.body_hash)
            )
            requests.append((feed.id, feed.url, validators))
    if not requests:
        return 0
    own = fetcher is None and jc.services.owns_fetcher  # no app: nobody closes it at exit
    active = fetcher or jc.services.news_fetcher
    try:
        outcomes = await poll_many(active, [(url, v) for _, url, v in requests])
    finally:
        if own:
            await active.close()
    made = 0
    for (feed_id, _, _), outcome in zip(requests, outcomes, strict=True):
        try:
            with jc.store.session() as session:
                polled = session.get(Feed, feed_id)
                if polled is None:
                    continue
                polled.last_polled = now
                if outcome.error is not None:
                    record_failure(session, config, polled, outcome.error, now)
                else:
                    made += record_success(session, config, polled, outcome, now)
                session.add(polled)
        except Exception:
            log.exception("storing the poll of feed %s failed", feed_id)
    return made


async def tick(jc: JobContext, now: datetime) -> None:
    made = await poll_feeds(jc, now)
    if made:
        log.info("news: %d new posts or digest entries", made)


def tick_interval(config: Config) -> timedelta:
    """The job looks for due feeds at least every minute (each feed keeps its own
    ``next_poll``), so a feed added in a chat gets its first items within a minute."""
    return min(poll_interval(config), timedelta(minutes=1))


JOBS = [JobSpec("news.poll", tick_interval, tick)]
