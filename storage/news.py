"""Queries for news feeds (see ``storage.models.news``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from bot.types import ChatRef
from storage import chats
from storage.models.news import Feed, FeedItem, FeedTarget, NewsPending, NewsPosted

IMMEDIATE, DIGEST = "immediate", "digest"


def link_key(feed_id: int, key: str, norm_link: str | None) -> str:
    """The item's link as a key (so two feeds carrying one article count once), else its
    own key in its feed. Stored on ``FeedItem.link_key``; see ``posted_from_another_feed``."""
    if norm_link:
        return "l:" + hashlib.sha256(norm_link.encode("utf-8")).hexdigest()[:40]
    return item_key(feed_id, key)


def item_key(feed_id: int, key: str) -> str:
    """What a chat was sent, per item: distinct items of one feed (their own guids) are
    distinct whatever they link to."""
    return f"f{feed_id}:{key}"


def words(value: str | None) -> list[str]:
    try:
        data = json.loads(value or "[]")
    except ValueError:
        return []
    return [str(w) for w in data] if isinstance(data, list) else []


def dump_words(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


# -- feeds and targets ---------------------------------------------------------------------------


def feed_by_url(session: Session, url: str) -> Feed | None:
    return session.exec(select(Feed).where(Feed.url == url)).first()


def ensure_feed(session: Session, url: str, now: datetime, name: str | None = None) -> Feed:
    feed = feed_by_url(session, url)
    if feed is None:
        feed = Feed(url=url, name=name, next_poll=now, created_at=now)
        session.add(feed)
        session.flush()
    elif name and feed.name != name:
        feed.name = name
        session.add(feed)
    return feed


def set_target(
    session: Session,
    feed: Feed,
    chat: ChatRef | str,
    now: datetime,
    *,
    network_id: int,
    mode: str = IMMEDIATE,
    keywords: Sequence[str] = (),
    exclude: Sequence[str] = (),
    source: str = "chat",
    added_by: str | None = None,
    wake: bool = False,
) -> FeedTarget:
    """Create or update (and re-activate) ``chat`` following ``feed``. ``wake``: an admin
    added it again, so a paused feed gets another chance."""
    assert feed.id is not None
    target = session.exec(
        select(FeedTarget).where(FeedTarget.feed_id == feed.id, FeedTarget.chat_ref == str(chat))
    ).first()
    if target is None:
        target = FeedTarget(
            feed_id=feed.id, chat_ref=str(chat), network_id=network_id, created_at=now
        )
    target.network_id = network_id
    target.mode = mode
    target.keywords = dump_words(keywords)
    target.exclude = dump_words(exclude)
    target.source = source
    target.added_by = added_by or target.added_by
    target.active = True
    session.add(target)
    if wake and feed.paused:
        feed.paused, feed.failures, feed.notified, feed.next_poll = False, 0, False, now
        session.add(feed)
    session.flush()
    return target


def targets_of_chat(session: Session, chat: ChatRef | str) -> list[tuple[FeedTarget, Feed]]:
    stmt = (
        select(FeedTarget, Feed)
        .join(Feed, col(Feed.id) == FeedTarget.feed_id)
        .where(FeedTarget.chat_ref == str(chat), FeedTarget.active == True)  # noqa: E712
        .order_by(col(FeedTarget.id))
    )
    return [(t, f) for t, f in session.exec(stmt)]


def targets_of_feed(session: Session, feed_id: int) -> list[FeedTarget]:
    stmt = select(FeedTarget).where(
        FeedTarget.feed_id == feed_id,
        FeedTarget.active == True,  # noqa: E712
    )
    return list(session.exec(stmt.order_by(col(FeedTarget.id))))


def config_targets(session: Session) -> list[FeedTarget]:
    return list(session.exec(select(FeedTarget).where(FeedTarget.source == "config")))


def due_feeds(session: Session, now: datetime) -> list[Feed]:
    """Feeds some chat follows, not paused, whose time has come."""
    followed = select(FeedTarget.feed_id).where(FeedTarget.active == True)  # noqa: E712
    stmt = (
        select(Feed)
        .where(Feed.paused == False, Feed.next_poll <= now)  # noqa: E712
        .where(col(Feed.id).in_(followed))
        .order_by(col(Feed.next_poll))
    )
    return list(session.exec(stmt))


# -- items -----------------------------------------------------------------------------------------


def items_by_key(session: Session, feed_id: int, keys: Sequence[str]) -> dict[str, FeedItem]:
    out: dict[str, FeedItem] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        stmt = select(FeedItem).where(FeedItem.feed_id == feed_id, col(FeedItem.key).in_(chunk))
        out.update((row.key, row) for row in session.exec(stmt))
    return out


def latest_items(
    session: Session, feed_ids: Sequence[int], limit: int
) -> list[tuple[FeedItem, Feed]]:
    if not feed_ids:
        return []
    when = func.coalesce(FeedItem.published, FeedItem.first_seen)
    stmt = (
        select(FeedItem, Feed)
        .join(Feed, col(Feed.id) == FeedItem.feed_id)
        .where(col(FeedItem.feed_id).in_(list(feed_ids)))
        .order_by(when.desc(), col(FeedItem.id))  # same time: document order (newest first)
        .limit(limit)
    )
    return [(i, f) for i, f in session.exec(stmt)]


# -- posted and pending ----------------------------------------------------------------------------


def was_posted(session: Session, chat: ChatRef | str, key: str) -> bool:
    stmt = select(NewsPosted.id).where(NewsPosted.chat_ref == str(chat), NewsPosted.link_key == key)
    return session.exec(stmt).first() is not None


def posted_from_another_feed(
    session: Session, chat: ChatRef | str, link: str, feed_id: int
) -> bool:
    """Did ``chat`` already get an item of *another* feed with the same link key (``l:…``)?
    Link-dedupe works across feeds only: within one feed, items are told apart by their keys."""
    if not link.startswith("l:"):
        return False
    stmt = (
        select(NewsPosted.id)
        .join(FeedItem, col(FeedItem.id) == NewsPosted.item_id)
        .where(
            NewsPosted.chat_ref == str(chat),
            FeedItem.link_key == link,
            FeedItem.feed_id != feed_id,
        )
        .limit(1)
    )
    return session.exec(stmt).first() is not None


def mark_posted(
    session: Session, chat: ChatRef | str, key: str, item_id: int | None, now: datetime
) -> bool:
    """Record that ``chat`` got ``key``; False if it already had it (then nothing is written)."""
    if was_posted(session, chat, key):
        return False
    session.add(NewsPosted(chat_ref=str(chat), link_key=key, item_id=item_id, posted_at=now))
    session.flush()
    return True


def queue_for_digest(session: Session, chat: ChatRef | str, item_id: int, now: datetime) -> None:
    session.add(NewsPending(chat_ref=str(chat), item_id=item_id, created_at=now))


def pending_chats(session: Session, until: datetime) -> list[str]:
    stmt = select(NewsPending.chat_ref).where(NewsPending.created_at <= until).distinct()
    return sorted(session.exec(stmt))


def pending_for_chat(
    session: Session, chat: ChatRef | str, until: datetime
) -> list[tuple[NewsPending, FeedItem, Feed]]:
    stmt = (
        select(NewsPending, FeedItem, Feed)
        .join(FeedItem, col(FeedItem.id) == NewsPending.item_id)
        .join(Feed, col(Feed.id) == FeedItem.feed_id)
        .where(NewsPending.chat_ref == str(chat), NewsPending.created_at <= until)
        .order_by(col(NewsPending.id))
    )
    return [(p, i, f) for p, i, f in session.exec(stmt)]


def move_chat(session: Session, old: ChatRef, new: ChatRef) -> None:
    for model in (FeedTarget, NewsPosted, NewsPending):
        session.execute(
            update(model).where(col(model.chat_ref) == str(old)).values(chat_ref=str(new))
        )


chats.CHAT_MOVERS.append(move_chat)


def all_followed_feeds(session: Session, *, network_id: int) -> list[int]:
    """The feeds some chat of the network follows (what a personal /abo news draws on)."""
    stmt = (
        select(FeedTarget.feed_id)
        .where(FeedTarget.active == True, FeedTarget.network_id == network_id)  # noqa: E712
        .distinct()
    )
    return sorted(session.exec(stmt))


# -- personal data ---------------------------------------------------------------------------------


def feeds_of_person(session: Session, person: str) -> list[tuple[FeedTarget, Feed]]:
    """Feeds followed in the person's private chat or added by them anywhere."""
    stmt = (
        select(FeedTarget, Feed)
        .join(Feed, col(Feed.id) == FeedTarget.feed_id)
        .where(or_(col(FeedTarget.chat_ref) == person, col(FeedTarget.added_by) == person))
        .order_by(col(FeedTarget.id))
    )
    return [(t, f) for t, f in session.exec(stmt)]


def news_counts(session: Session, chat: str) -> tuple[int, int]:
    """(items queued for the chat's next digest, items ever posted to it)."""
    pending = session.scalar(
        select(func.count()).select_from(NewsPending).where(NewsPending.chat_ref == chat)
    )
    posted = session.scalar(
        select(func.count()).select_from(NewsPosted).where(NewsPosted.chat_ref == chat)
    )
    return int(pending or 0), int(posted or 0)


def forget_chat(session: Session, chat: str) -> None:
    """A forgotten person's private chat: its feeds, queued digest and posting history go (a
    feed nobody else follows goes with them); feeds they added to groups stay, unsigned."""
    feed_ids = set(
        session.exec(select(FeedTarget.feed_id).where(FeedTarget.chat_ref == chat)).all()
    )
    for model in (NewsPending, NewsPosted, FeedTarget):
        session.execute(delete(model).where(col(model.chat_ref) == chat))
    session.execute(
        update(FeedTarget).where(col(FeedTarget.added_by) == chat).values(added_by=None)
    )
    for feed_id in feed_ids:
        followed = session.exec(select(FeedTarget.id).where(FeedTarget.feed_id == feed_id)).first()
        if followed is None:
            session.execute(delete(FeedItem).where(col(FeedItem.feed_id) == feed_id))
            session.execute(delete(Feed).where(col(Feed.id) == feed_id))
