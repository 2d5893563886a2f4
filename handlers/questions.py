"""/frage, /fragen, /plus, /frage_erledigt: questions members collect for the next meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import i18n
from bot.arg_types import QUESTION
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, NotFound, UsageError, UserError
from bot.markup import Markup, join
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.types import Permission
from storage import chats, people
from storage import questions as qs
from storage.models.questions import DONE, Question

ANONYMOUS_WORDS = ("anonym", "anonymous", "anon")
LIST_LIMIT = 20


def asker_label(lang: str, question: Question) -> Markup:
    if question.anonymous or not question.asker_name:
        return i18n.t(lang, "questions.anonymous")
    return Markup("{}").format(question.asker_name)


def question_line(lang: str, ranked: qs.RankedQuestion) -> Markup:
    q = ranked.question
    return i18n.t(
        lang,
        "questions.line",
        n=q.id,
        text=q.text,
        who=asker_label(lang, q),
        plus=ranked.supporters,
    )


def split_anonymous(text: str) -> tuple[str, bool]:
    """'anonym' as the last (or else the first) word makes a question anonymous."""
    words = text.split()
    if words and words[-1].lower().strip("()[].,") in ANONYMOUS_WORDS:
        return " ".join(words[:-1]), True
    if words and words[0].lower().rstrip(":,") in ANONYMOUS_WORDS:
        return " ".join(words[1:]), True
    return text.strip(), False


@command(
    "frage",
    "question",
    help="questions.help.frage",
    usage="questions.usage.frage",
    section="questions",
)
async def frage(ctx: Context, args: Args) -> Markup:
    text, anonymous = split_anonymous(args.rest)
    text = " ".join(text.split())  # one line, no runs of blanks
    if not text:
        raise UsageError("questions.error.empty")
    limit = ctx.config.questions.max_length
    if len(text) > limit:
        raise InvalidInput("questions.error.too_long", max=limit, length=len(text))
    with ctx.store.session() as session:
        duplicate = qs.find_duplicate(session, text, network_id=ctx.network_id)
        if duplicate is not None:
            raise UserError("questions.error.duplicate", n=duplicate.id)
        row = qs.ask(
            session,
            text,
            asker_ref=people.person_key(session, str(ctx.sender.ref)),
            asker_name=ctx.sender.name,
            anonymous=anonymous,
            chat_ref=str(ctx.chat),
            now=ctx.now,
            network_id=ctx.network_id,
        )
    key = "questions.asked_anonymous" if anonymous else "questions.asked"
    return ctx.t(key, n=row.id)


@command("fragen", "questions", help="questions.help.fragen", section="questions")
async def fragen(ctx: Context, args: Args) -> Markup:
    with ctx.store.session() as session:
        ranked = qs.ranked_open(session, network_id=ctx.network_id)
    if not ranked:
        return ctx.t("questions.list.empty")
    lines: list[Markup | str] = [
        *ctx.network_header(),
        ctx.tn("questions.list.header", len(ranked)),
    ]
    lines += [question_line(ctx.lang, r) for r in ranked[:LIST_LIMIT]]
    if len(ranked) > LIST_LIMIT:
        lines.append(ctx.t("questions.list.more", n=len(ranked) - LIST_LIMIT))
    lines.append(ctx.t("questions.list.footer"))
    return join(lines)


def _number(args: Args) -> int:
    return QUESTION.parse(args.get(0))


@command(
    "plus",
    None,
    help="questions.help.plus",
    usage="questions.usage.plus",
    section="questions",
)
async def plus(ctx: Context, args: Args) -> Markup:
    number = _number(args)
    try:
        count = _support(ctx, number)
    except IntegrityError:  # the same person twice at the same moment: the other one won
        raise UserError("questions.error.already", n=number) from None
    return ctx.t("questions.supported", n=number, plus=count)


def _support(ctx: Context, number: int) -> int:
    with ctx.store.session() as session:
        try:
            key = people.person_key(session, str(ctx.sender.ref))
            return qs.support(session, number, key, ctx.now, network_id=ctx.network_id)
        except LookupError:
            raise NotFound("questions.not_found", n=number) from None
        except qs.QuestionClosed:
            raise UserError("questions.error.closed", n=number) from None
        except qs.OwnQuestion:
            raise UserError("questions.error.own", n=number) from None
        except qs.AlreadySupported:
            raise UserError("questions.error.already", n=number) from None


@command(
    "frage_erledigt",
    "question_done",
    help="questions.help.frage_erledigt",
    usage="questions.usage.frage_erledigt",
    permission=Permission.ADMIN,
    section="questions",
)
async def frage_erledigt(ctx: Context, args: Args) -> Markup:
    number = _number(args)
    with ctx.store.session() as session:
        row = qs.get(session, number, network_id=ctx.network_id)
        if row is None:
            raise NotFound("questions.not_found", n=number)
        if row.status == DONE:
            return ctx.t("questions.already_done", n=number)
        qs.mark_done(session, number, ctx.now, network_id=ctx.network_id)
    return ctx.t("questions.done", n=number)


# -- personal data -------------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    lines = [
        i18n.t(
            lang,
            "privacy.data.question",
            n=q.id,
            text=q.text,
            status=i18n.t(lang, f"privacy.status.{q.status}"),
        )
        for q in qs.asked_by(session, ref)
    ]
    lines += [
        i18n.t(lang, "privacy.data.support", n=q.id, text=q.text)
        for q in qs.supported_by(session, ref)
    ]
    return lines


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    qs.forget_person(session, ref, names)


register_personal_data(PersonalDataSource("questions", _describe, _forget))
chats.CHAT_MOVERS.append(lambda session, old, new: qs.move_chat(session, str(old), str(new)))
