"""Greeting newcomers (issue 18): everyone who joined a network's group within ``GATHER`` of
the first waiting join gets one greeting together, through the outbox.

Joins are stored by the connectors' ``members_joined`` hook (``App.members_joined``) as hashed
markers with the name; this tick writes the greeting and, in the same transaction, marks them
greeted and forgets the names. The outbox row's dedupe key names the batch: never lost (the
join is stored before anything is sent), never repeated (greeted markers, unique key).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.lists import format_list
from sqlmodel import Session

from bot import i18n
from bot.calendar import render
from bot.chat_language import language_of
from bot.markup import Markup, esc, join
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import meetings, networks, outbox, welcome
from storage.models.welcome import WelcomeJoin

log = logging.getLogger(__name__)

GATHER = timedelta(minutes=1)  # joins within this time of the first get one greeting


def greeting(
    lang: str, network_name: str, text: str | None, names: list[str], next_line: Markup | None
) -> str:
    """The greeting in the group's language: hello, the network's text, the next meeting, how
    to subscribe."""
    if names:
        listed = format_list(names, locale=i18n.base_language(lang))
        hello = i18n.t(lang, "welcome.hello", names=listed)
    else:
        hello = i18n.t(lang, "welcome.hello_anonymous")
    body = esc(text) if text else i18n.t(lang, "welcome.default", network=network_name)
    meeting = (
        i18n.t(lang, "welcome.next", meeting=next_line)
        if next_line is not None
        else i18n.t(lang, "welcome.no_meeting")
    )
    return str(join([hello, body, "", meeting, i18n.t(lang, "welcome.subscribe")]))


def next_meeting(
    session: Session, network_id: int, lang: str, tz: ZoneInfo, now: datetime
) -> Markup | None:
    upcoming = meetings.upcoming(session, now, 1, include_cancelled=False, network_id=network_id)
    return render.list_line(upcoming[0], lang, tz, now) if upcoming else None


async def tick(jc: JobContext, now: datetime) -> None:
    with jc.store.session() as session:
        batches = welcome.due(session, now, GATHER)
        for chat_ref, joins in batches.items():
            _greet(jc, session, chat_ref, joins, now)
    if batches:
        log.info("welcome greetings=%d", len(batches))


def _greet(
    jc: JobContext, session: Session, chat_ref: str, joins: list[WelcomeJoin], now: datetime
) -> None:
    network_id = joins[0].network_id
    network = networks.by_id(session, network_id)
    enabled, text = welcome.settings(session, network_id)
    chat = ChatRef.parse(chat_ref)
    linked = networks.network_of_chat(session, chat_ref)
    if network is None or not enabled or linked is None or linked.id != network_id:
        welcome.mark_greeted(session, joins, now)  # switched off meanwhile: forget the names
        return
    lang = language_of(session, chat, jc.config, network_id)
    next_line = next_meeting(session, network_id, lang, jc.config.tz, now)
    names = [j.name for j in joins if j.name]
    body = greeting(i18n.normalize_language(lang), network.name, text, names, next_line)
    key = f"welcome:{chat_ref}:{joins[0].id}"
    outbox.enqueue(session, Outgoing(chat, body, key), now)
    welcome.mark_greeted(session, joins, now)


# every 5 s: a newcomer waits GATHER plus at most 5 s; a tick is one indexed query
JOBS = [JobSpec("welcome", timedelta(seconds=5), tick)]
