"""/umfrage, /stimme, /ergebnis, /umfrage_ende: priority polls across chats and platforms.

Kinds (``handlers.poll_kinds``): single choice (default), ``art=mehrfach max=3``,
``art=punkte punkte=5``, ``art=rangfolge`` (Schulze); ``bis=<Datum> <Uhrzeit>`` closes a poll
by itself (``jobs.polls`` posts the result with its chart); ``geheim`` shows results only once
closed and takes votes only in private chats. Votes are always ``/stimme <Umfrage> <Auswahl…>``:
anything else gets a usage message naming the open polls, never a guess.

Telegram gets a native poll where the kind fits one (``Reply.poll``); the connector reports its
id through the app hook ``poll_sent`` and each answer through ``poll_answer``. Votes from
everywhere land in one table, one per person, so results count across all chats.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import capabilities, i18n
from bot.arg_types import DATETIME, POLL, is_number, number_in
from bot.args import Args, take_datetime_option
from bot.capabilities import Capability
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, NotFound, UsageError, UserError
from bot.i18n.dates import format_datetime_long
from bot.markup import Markup, join
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.services import Services
from bot.types import Attachment, ChatRef, Outgoing, Permission, PollSpec, Reply, Sender
from handlers.persons import person_key
from handlers.poll_chart import chart_attachment
from handlers.poll_kinds import (
    KIND_OPTIONS,
    SECRET_WORDS,
    BallotError,
    PollSettings,
    parse_ballot,
    settings_from,
)
from handlers.poll_text import ballot_text, count, open_polls_text, poll_text, result_text
from storage import chats, outbox
from storage import polls as store_polls
from storage import questions as store_questions
from storage.models.polls import APPROVAL, SINGLE, Poll

log = logging.getLogger(__name__)

# /umfrage_aus_fragen max=N: how many of the top questions go into the poll
QUESTIONS_IN_POLL = number_in(
    "polls.error.max_questions", store_polls.MIN_OPTIONS, store_polls.MAX_OPTIONS
)


# -- creating and posting ------------------------------------------------------------------------
_SETTING_WORD = re.compile(r"^(?:(?:art|kind|max|punkte|points)=\S*|geheim|secret)$", re.I)


def split_settings(text: str) -> tuple[str, dict[str, str], bool, str | None]:
    """'Frage | A | B art=punkte punkte=5 bis=1.12.2030 18:00 geheim' ->
    ('Frage | A | B', {'art': 'punkte', 'punkte': '5'}, True, '1.12.2030 18:00').
    Settings are the trailing words after the last option."""
    until, text = take_datetime_option(text, ("bis", "until"))
    head, sep, last = text.rpartition("|")
    words = last.split()
    options: dict[str, str] = {}
    secret = False
    while words and _SETTING_WORD.match(words[-1]):
        word = words.pop()
        key, eq, value = word.partition("=")
        if eq:
            options.setdefault(key.lower(), value)
        else:
            secret = True
    return head + sep + " ".join(words), options, secret, until


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


def native_spec(poll: Poll) -> PollSpec | None:
    """A native poll where its rules fit one: single choice, or approval without a limit.
    Secret polls take votes in private chats only, so they are never native in a group."""
    assert poll.id is not None  # stored polls have ids
    options = store_polls.options_of(poll)
    if poll.secret:
        return None
    if poll.kind == SINGLE:
        return PollSpec(poll.id, poll.question, tuple(options))
    if poll.kind == APPROVAL and (poll.max_choices or 0) >= len(options):
        return PollSpec(poll.id, poll.question, tuple(options), allows_multiple=True)
    return None


def post(ctx: Context, session: Session, poll: Poll) -> Reply:
    """Remember that ``poll`` goes to this chat and build the message that shows it."""
    assert poll.id is not None  # stored polls have ids
    store_polls.add_post(session, poll.id, str(ctx.chat), ctx.now)
    spec = native_spec(poll) if capabilities.has(ctx.chat, Capability.NATIVE_POLLS) else None
    if spec is not None:
        lines = [ctx.t("polls.posted_native", n=poll.id)]
        if poll.closes_at is not None:
            lines.append(
                ctx.t("polls.until", when=format_datetime_long(poll.closes_at, ctx.lang, ctx.tz))
            )
        return Reply(str(join(lines)), poll=spec)
    return Reply(str(poll_text(ctx.lang, poll, ctx.tz)))


def _create_and_post(
    ctx: Context,
    session: Session,
    question: str,
    choices: list[str],
    settings: PollSettings,
    until: str | None,
) -> Reply:
    """Store a new poll of the sender's network (/umfrage, /umfrage_aus_fragen) and post it."""
    poll = store_polls.create(
        session,
        question,
        choices,
        str(ctx.sender.ref),
        ctx.now,
        kind=settings.kind,
        max_choices=settings.max_choices,
        points=settings.points,
        secret=settings.secret,
        closes_at=_closes_at(ctx, until),
        network_id=ctx.network_id,
    )
    return post(ctx, session, poll)


def _closes_at(ctx: Context, text: str | None) -> datetime | None:
    if text is None:
        return None
    when = DATETIME.parse(text, ctx.tz, ctx.now)
    if when <= ctx.now:
        raise InvalidInput(
            "polls.error.until_past", when=format_datetime_long(when, ctx.lang, ctx.tz)
        )
    return when


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
        if is_number(text):  # post an existing poll here too
            number = POLL.parse(text)
            poll = store_polls.get(session, number, network_id=ctx.network_id)
            if poll is None:
                raise NotFound("polls.not_found", n=text)
            if poll.closed:
                raise UserError("polls.error.closed", n=poll.id)
            return post(ctx, session, poll)
        body, options, secret, until = split_settings(text)
        question, choices = parse_poll(body)
        settings = settings_from(options, secret, len(choices))
        return _create_and_post(ctx, session, question, choices, settings, until)


@command(
    "umfrage_aus_fragen",
    "poll_from_questions",
    help="polls.help.umfrage_aus_fragen",
    usage="polls.usage.umfrage_aus_fragen",
    permission=Permission.ADMIN,
    section="questions",
)
async def umfrage_aus_fragen(ctx: Context, args: Args) -> Reply:
    """The open questions, most supported first, as a priority poll (points by default)."""
    until, rest = take_datetime_option(args.rest, ("bis", "until"))
    words = rest.split()
    options: dict[str, str] = {}
    secret = False
    for word in words:
        key, eq, value = word.partition("=")
        if eq and key.lower() in KIND_OPTIONS:
            options[key.lower()] = value
        elif word.lower() in SECRET_WORDS:
            secret = True
        else:
            raise UsageError("polls.error.from_questions_word", value=word)
    # here max= is how many questions go into the poll (an approval poll has no limit)
    limit_text = options.pop("max", None)
    limit = store_polls.MAX_OPTIONS
    if limit_text is not None:
        limit = QUESTIONS_IN_POLL.parse(limit_text)
    if "art" not in options and "kind" not in options:
        options["art"] = "punkte"
    with ctx.store.session() as session:
        ranked = store_questions.ranked_open(session, limit, network_id=ctx.network_id)
        if len(ranked) < store_polls.MIN_OPTIONS:
            raise UserError("polls.from_questions.too_few", n=len(ranked))
        choices = [_question_option(r.question.id, r.question.text) for r in ranked]
        settings = settings_from(options, secret, len(choices))
        question = str(ctx.t("polls.from_questions.question"))
        return _create_and_post(ctx, session, question, choices, settings, until)


def _question_option(number: int | None, text: str) -> str:
    prefix = f"#{number} "
    room = store_polls.MAX_OPTION - len(prefix)
    flat = " ".join(text.split())
    return prefix + (flat if len(flat) <= room else flat[: room - 1].rstrip() + "…")


# -- voting and results --------------------------------------------------------------------------
def _open_polls(ctx: Context, session: Session) -> Markup:
    return open_polls_text(ctx.lang, store_polls.open_polls(session, ctx.network_id))


def _poll_for(ctx: Context, session: Session, number: str | None) -> Poll:
    if number:
        number_ = POLL.parse(number.strip().rstrip(":"))
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


def _vote_problem(ctx: Context, session: Session, key: str, **kwargs: Any) -> UsageError:
    """A usage message that names the open polls: a vote is never guessed."""
    return UsageError(
        "polls.error.vote_problem",
        problem=ctx.t(key, **kwargs),
        open=_open_polls(ctx, session),
    )


def close_if_due(session: Session, poll: Poll, now: datetime) -> None:
    """A poll whose ``bis=`` has passed is closed, even before the job got to it."""
    if not poll.closed and poll.closes_at is not None and poll.closes_at <= now:
        store_polls.close(session, poll)


@command(
    "stimme",
    "vote",
    help="polls.help.stimme",
    usage="polls.usage.stimme",
    section="questions",
)
async def stimme(ctx: Context, args: Args) -> Reply | Markup | None:
    with ctx.store.session() as session:
        word = (args.get(0) or "").strip().rstrip(":")
        if not is_number(word):
            raise _vote_problem(ctx, session, "polls.error.poll_first")
        try:
            number = POLL.parse(word)
        except NotFound as exc:
            raise _vote_problem(ctx, session, exc.key, **exc.kwargs) from None
        poll = store_polls.get(session, number, network_id=ctx.network_id)
        if poll is None:
            raise _vote_problem(ctx, session, "polls.not_found", n=number)
        assert poll.id is not None  # stored polls have ids
        close_if_due(session, poll, ctx.now)
        if poll.closed:
            raise UserError("polls.error.closed", n=poll.id)
        if poll.secret and ctx.is_group:
            return Reply(str(ctx.t("polls.secret.vote_privately", n=poll.id)), delete_incoming=True)
        settings = PollSettings(poll.kind, poll.max_choices, poll.points, poll.secret)
        count_ = len(store_polls.options_of(poll))
        try:
            value = parse_ballot(settings, args.positional[1:], count_)
        except BallotError as exc:
            raise _vote_problem(ctx, session, exc.key, **exc.kwargs) from None
        voter = person_key(session, ctx.sender.ref)
        replaced = store_polls.vote_value(session, poll.id, voter, value, ctx.now)
        key = "polls.vote_changed" if replaced else "polls.vote_counted"
        text = ctx.t(key, option=ballot_text(ctx.lang, poll, value), n=poll.id)
        if ctx.is_group and Capability.PRIVATE_MESSAGES in ctx.capabilities:
            # the vote is answered in the voter's own chat, not in front of the group
            out = Outgoing(
                ctx.sender.ref, str(text), f"vote:{poll.id}:{voter}:{ctx.now.timestamp()}"
            )
            outbox.enqueue(session, out, ctx.now)
            return None
    return text


def result_reply(ctx_lang: str, session: Session, poll: Poll) -> Reply:
    """The text result and its bar chart."""
    assert poll.id is not None  # stored polls have ids
    ballots = store_polls.ballots(session, poll.id)
    chats_count = len(store_polls.chats_of(session, poll.id))
    text = result_text(ctx_lang, poll, ballots, chats_count)
    options = store_polls.options_of(poll)
    chart = chart_attachment(ctx_lang, poll, options, count(poll, ballots), len(ballots))
    return Reply(str(text), attachments=(chart,))


@command(
    "ergebnis",
    "results",
    help="polls.help.ergebnis",
    usage="polls.usage.ergebnis",
    section="questions",
)
async def ergebnis(ctx: Context, args: Args) -> Reply | Markup:
    with ctx.store.session() as session:
        poll = _poll_for(ctx, session, args.get(0))
        assert poll.id is not None  # stored polls have ids
        close_if_due(session, poll, ctx.now)
        if poll.secret and not poll.closed:
            voters = len(store_polls.ballots(session, poll.id))
            return join(
                [
                    ctx.t("polls.secret.no_result_yet", n=poll.id),
                    ctx.tn("polls.result.voters", voters),
                ]
            )
        return result_reply(ctx.lang, session, poll)


@command(
    "umfrage_ende",
    "poll_close",
    help="polls.help.umfrage_ende",
    usage="polls.usage.umfrage_ende",
    permission=Permission.ADMIN,
    section="questions",
)
async def umfrage_ende(ctx: Context, args: Args) -> Reply:
    if not args.positional:
        raise UsageError("polls.error.poll_number")
    with ctx.store.session() as session:
        poll = _poll_for(ctx, session, args.get(0))
        store_polls.close(session, poll)
        poll.result_posted_at = ctx.now  # the closing post is this reply
        session.add(poll)
        reply = result_reply(ctx.lang, session, poll)
    text = join([ctx.t("polls.closed", n=poll.id), Markup(reply.text)])
    return Reply(str(text), attachments=reply.attachments)


# -- native polls: the connector hooks -----------------------------------------------------------
def install_services(services: Services) -> None:
    """Called by ``build_services`` for the app: answer ``poll_sent`` and ``poll_answer``."""
    app = services.require_app()

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
            assert poll.id is not None  # stored polls have ids
            if poll.closed:
                log.info("answer to closed poll ignored poll_id=%s", poll.id)
                return
            count_ = len(store_polls.options_of(poll))
            valid = [i for i in option_ids if 0 <= i < count_]
            if len(valid) != len(option_ids):
                log.warning("answer with unknown options poll_id=%s ids=%s", poll.id, option_ids)
            if poll.kind == SINGLE:
                valid = valid[:1]
            elif poll.kind != APPROVAL:
                log.warning("native answer to a %s poll ignored poll_id=%s", poll.kind, poll.id)
                return
            store_polls.vote(session, poll.id, person_key(session, voter.ref), valid, now)

    def poll_result(
        session: Session, poll: Poll, lang: str, tz: Any
    ) -> tuple[str, tuple[Attachment, ...]]:
        """The closing post of a poll (``jobs.polls``): text and bar chart."""
        reply = result_reply(lang, session, poll)
        text = join([i18n.t(lang, "polls.closed_by_deadline", n=poll.id), Markup(reply.text)])
        return str(text), reply.attachments

    services.on_poll_sent = on_poll_sent
    services.on_poll_answer = on_poll_answer
    services.poll_result = poll_result


# -- personal data -------------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    lines = []
    for poll, vote in store_polls.votes_by(session, ref):
        chosen = ballot_text(lang, poll, vote.option_ids)
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
