"""/umfrage, /stimme, /ergebnis, /umfrage_ende: priority polls across chats and platforms.

Telegram gets a native poll (``Reply.poll``); the connector reports its id through the app hook
``poll_sent`` and each answer through ``poll_answer`` (see ``install_services``). Elsewhere the
poll is a numbered list answered with ``/stimme N``. Votes from everywhere land in one table,
one per person, so ``/ergebnis`` counts across all chats the poll was posted to.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import i18n
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, NotFound, UsageError, UserError
from bot.markup import Markup, join
from bot.numbers import item_number, parse_number
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.types import ChatRef, Permission, PollSpec, Reply, Sender
from storage import chats, people
from storage import polls as store_polls
from storage.models.polls import Poll

log = logging.getLogger(__name__)

NATIVE_POLL_PLATFORMS = frozenset({"telegram"})


# -- creating and posting ------------------------------------------------------------------------
def parse_poll(text: str) -> tuple[str, list[str]]:
    """'Frage | A | B' -> ('Frage', ['A', 'B']), with the checks Telegram's sendPoll needs."""
    if "|" not in text:
        raise UsageError("polls.error.format")
    question, *options = (part.strip() for part in text.split("|"))
    if not question:
        raise UsageError("polls.error.question_empty")
    if len(question) > store_polls.MAX_QUESTION:
        raise InvalidInput("polls.error.question_too_long", max=store_polls.MAX_QUESTION)
    if any(not o for o in options):
        raise InvalidInput("polls.error.option_empty")
    if len(options) < store_polls.MIN_OPTIONS:
        raise InvalidInput("polls.error.too_few", min=store_polls.MIN_OPTIONS)
    if len(options) > store_polls.MAX_OPTIONS:
        raise InvalidInput("polls.error.too_many", max=store_polls.MAX_OPTIONS, n=len(options))
    long = next((o for o in options if len(o) > store_polls.MAX_OPTION), None)
    if long is not None:
        raise InvalidInput("polls.error.option_too_long", max=store_polls.MAX_OPTION, option=long)
    folded = [o.casefold() for o in options]
    if len(set(folded)) != len(folded):
        raise InvalidInput("polls.error.duplicate_option")
    return question, options


def post(ctx: Context, session: Session, poll: Poll) -> Reply:
    """Remember that ``poll`` goes to this chat and build the message that shows it."""
    store_polls.add_post(session, poll.id, str(ctx.chat), ctx.now)
    options = store_polls.options_of(poll)
    if ctx.chat.platform in NATIVE_POLL_PLATFORMS:
        spec = PollSpec(poll.id, poll.question, tuple(options))
        return Reply(ctx.t("polls.posted_native", n=poll.id), poll=spec)
    lines: list[Markup | str] = [ctx.t("polls.header", n=poll.id, question=poll.question)]
    lines += [Markup("{}. {}").format(i, o) for i, o in enumerate(options, 1)]
    lines.append(ctx.t("polls.vote_hint", n=poll.id))
    return Reply(join(lines))


@command(
    "umfrage",
    "poll",
    help="polls.help.umfrage",
    usage="polls.usage.umfrage",
    permission=Permission.ADMIN,
    section="questions",
)
async def umfrage(ctx: Context, args: Args) -> Reply:
    text = args.rest.strip()
    with ctx.store.session() as session:
        if parse_number(text) is not None:  # post an existing poll here too
            number = item_number(text, UsageError(), "polls.not_found")
            poll = store_polls.get(session, number, network_id=ctx.network_id)
            if poll is None:
                raise NotFound("polls.not_found", n=text)
            if poll.closed:
                raise UserError("polls.error.closed", n=poll.id)
            return post(ctx, session, poll)
        question, options = parse_poll(text)
        poll = store_polls.create(
            session, question, options, str(ctx.sender.ref), ctx.now, network_id=ctx.network_id
        )
        return post(ctx, session, poll)


# -- voting and results --------------------------------------------------------------------------
def _poll_for(ctx: Context, session: Session, number: str | None) -> Poll:
    if number:
        usage = UsageError("polls.error.poll_number")
        number_ = item_number(number, usage, "polls.not_found")
        poll = store_polls.get(session, number_, network_id=ctx.network_id)
        if poll is None:
            raise NotFound("polls.not_found", n=number)
        return poll
    poll = store_polls.latest_in_chat(
        session, str(ctx.chat), network_id=ctx.network_id
    ) or store_polls.latest(session, network_id=ctx.network_id)
    if poll is None:
        raise UserError("polls.error.no_poll")
    return poll


@command(
    "stimme",
    "vote",
    help="polls.help.stimme",
    usage="polls.usage.stimme",
    options=("umfrage", "poll"),
    section="questions",
)
async def stimme(ctx: Context, args: Args) -> Markup:
    choice = parse_number(args.get(0))
    if choice is None:
        raise UsageError("polls.error.option_number")
    with ctx.store.session() as session:
        poll = _poll_for(ctx, session, args.options.get("umfrage") or args.options.get("poll"))
        if poll.closed:
            raise UserError("polls.error.closed", n=poll.id)
        options = store_polls.options_of(poll)
        index = choice - 1
        if not 0 <= index < len(options):
            raise InvalidInput("polls.error.option_range", max=len(options), n=poll.id)
        voter = people.person_key(session, str(ctx.sender.ref))
        replaced = store_polls.vote(session, poll.id, voter, [index], ctx.now)
    key = "polls.vote_changed" if replaced else "polls.vote_counted"
    return ctx.t(key, option=options[index], n=poll.id)


def result_text(lang: str, res: store_polls.Result) -> Markup:
    lines: list[Markup | str] = [
        i18n.t(lang, "polls.result.header", n=res.poll.id, question=res.poll.question)
    ]
    if res.poll.closed:
        lines.append(i18n.t(lang, "polls.result.closed"))
    order = sorted(range(len(res.options)), key=lambda i: (-res.counts[i], i))
    for rank, i in enumerate(order, 1):
        share = round(100 * res.counts[i] / res.voters) if res.voters else 0
        lines.append(
            i18n.t(
                lang,
                "polls.result.line",
                rank=rank,
                option=res.options[i],
                votes=res.counts[i],
                share=share,
            )
        )
    voters = i18n.tn(lang, "polls.result.voters", res.voters)
    in_chats = i18n.tn(lang, "polls.result.chats", res.chats)
    lines.append(i18n.t(lang, "polls.result.voters_in_chats", voters=voters, chats=in_chats))
    return join(lines)


@command(
    "ergebnis",
    "results",
    help="polls.help.ergebnis",
    usage="polls.usage.ergebnis",
    section="questions",
)
async def ergebnis(ctx: Context, args: Args) -> Markup:
    with ctx.store.session() as session:
        poll = _poll_for(ctx, session, args.get(0))
        res = store_polls.result(session, poll)
    return result_text(ctx.lang, res)


@command(
    "umfrage_ende",
    "poll_close",
    help="polls.help.umfrage_ende",
    usage="polls.usage.umfrage_ende",
    permission=Permission.ADMIN,
    section="questions",
)
async def umfrage_ende(ctx: Context, args: Args) -> Markup:
    if not args.positional:
        raise UsageError("polls.error.poll_number")
    with ctx.store.session() as session:
        poll = _poll_for(ctx, session, args.get(0))
        store_polls.close(session, poll)
        res = store_polls.result(session, poll)
    return join([ctx.t("polls.closed", n=poll.id), result_text(ctx.lang, res)])


# -- native polls: the connector hooks -----------------------------------------------------------
def install_services(app: Any) -> None:
    """Called by the App at construction: answer ``poll_sent`` and ``poll_answer``."""

    async def on_poll_sent(chat: ChatRef, poll_id: int, platform_poll_id: str) -> None:
        with app.store.session() as session:
            if store_polls.get(session, poll_id, network_id=None) is None:
                log.warning("poll_sent for unknown poll poll_id=%s chat=%s", poll_id, chat)
                return
            store_polls.record_native_post(
                session, poll_id, str(chat), platform_poll_id, app.clock.now()
            )

    async def on_poll_answer(platform_poll_id: str, voter: Sender, option_ids: list[int]) -> None:
        try:
            record_answer(platform_poll_id, voter, option_ids)
        except IntegrityError:  # two answers of one person at once: the second replaces
            record_answer(platform_poll_id, voter, option_ids)

    def record_answer(platform_poll_id: str, voter: Sender, option_ids: list[int]) -> None:
        now = app.clock.now()
        with app.store.session() as session:
            post_row = store_polls.by_platform_id(session, platform_poll_id)
            poll = store_polls.get(session, post_row.poll_id, network_id=None) if post_row else None
            if poll is None:
                log.warning("answer for unknown native poll platform_poll_id=%s", platform_poll_id)
                return
            if poll.closed:
                log.info("answer to closed poll ignored poll_id=%s", poll.id)
                return
            count = len(store_polls.options_of(poll))
            valid = [i for i in option_ids if 0 <= i < count]
            if len(valid) != len(option_ids):
                log.warning("answer with unknown options poll_id=%s ids=%s", poll.id, option_ids)
            key = people.person_key(session, str(voter.ref))
            store_polls.vote(session, poll.id, key, valid, now)

    app.services.on_poll_sent = on_poll_sent
    app.services.on_poll_answer = on_poll_answer


# -- personal data -------------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    lines = []
    for poll, vote in store_polls.votes_by(session, ref):
        options = store_polls.options_of(poll)
        chosen = ", ".join(
            options[int(i)]
            for i in vote.option_ids.split(",")
            if i.isdigit() and int(i) < len(options)
        )
        lines.append(
            i18n.t(lang, "privacy.data.vote", n=poll.id, question=poll.question, option=chosen)
        )
    lines += [
        i18n.t(lang, "privacy.data.poll", n=p.id, question=p.question)
        for p in store_polls.created_by(session, ref)
    ]
    return lines


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    store_polls.forget_person(session, ref)


register_personal_data(PersonalDataSource("polls", _describe, _forget))
chats.CHAT_MOVERS.append(
    lambda session, old, new: store_polls.move_chat(session, str(old), str(new))
)
