"""How polls look in chat: the posted poll, the vote confirmation, the result, open polls."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import i18n
from bot.i18n.dates import format_datetime_long
from bot.markup import Markup, join
from handlers.poll_kinds import Tally, decode, letter, tally
from storage import polls as store_polls
from storage.models.polls import APPROVAL, POINTS, RANKING, Poll


def option_label(options: list[str], index: int) -> Markup:
    return Markup("{}) {}").format(letter(index), options[index])


def settings_line(lang: str, poll: Poll, tz: ZoneInfo) -> list[Markup]:
    """What kind of poll, until when, secret or not."""
    lines = []
    if poll.kind == APPROVAL:
        lines.append(i18n.t(lang, "polls.kind.approval", max=poll.max_choices or 0, n=poll.id))
    elif poll.kind == POINTS:
        lines.append(i18n.t(lang, "polls.kind.points", points=poll.points or 0, n=poll.id))
    elif poll.kind == RANKING:
        lines.append(i18n.t(lang, "polls.kind.ranking", n=poll.id))
    else:
        lines.append(i18n.t(lang, "polls.kind.single", n=poll.id))
    if poll.closes_at is not None and not poll.closed:
        when = format_datetime_long(poll.closes_at, lang, tz)
        lines.append(i18n.t(lang, "polls.until", when=when))
    if poll.secret:
        lines.append(i18n.t(lang, "polls.secret.note", n=poll.id))
    return lines


def poll_text(lang: str, poll: Poll, tz: ZoneInfo) -> Markup:
    options = store_polls.options_of(poll)
    lines: list[Markup | str] = [i18n.t(lang, "polls.header", n=poll.id, question=poll.question)]
    lines += [option_label(options, i) for i in range(len(options))]
    lines += settings_line(lang, poll, tz)
    lines.append(i18n.t(lang, "polls.result_hint", n=poll.id))
    return join(lines)


def ballot_text(lang: str, poll: Poll, value: str) -> Markup:
    """The person's ballot in words: 'b) Haushalt' / 'a) X: 3, c) Y: 2' / '1. c) Z, 2. a) X'."""
    options = store_polls.options_of(poll)
    pairs = decode(poll.kind, value, len(options))
    if poll.kind == POINTS:
        parts = [
            i18n.tn(lang, "polls.ballot.points", p, option=option_label(options, i))
            for i, p in pairs
        ]
    elif poll.kind == RANKING:
        parts = [
            Markup("{}. {}").format(rank, option_label(options, i))
            for rank, (i, _) in enumerate(pairs, 1)
        ]
    else:
        parts = [option_label(options, i) for i, _ in pairs]
    return Markup(", ").join(parts)


def count(poll: Poll, ballots: list[str]) -> Tally:
    return tally(poll.kind, ballots, len(store_polls.options_of(poll)))


def result_text(lang: str, poll: Poll, ballots: list[str], chats: int) -> Markup:
    options = store_polls.options_of(poll)
    result = count(poll, ballots)
    voters = len(ballots)
    lines: list[Markup | str] = [
        i18n.t(lang, "polls.result.header", n=poll.id, question=poll.question)
    ]
    if poll.closed:
        lines.append(i18n.t(lang, "polls.result.closed"))
    if poll.kind == RANKING:
        lines.append(i18n.t(lang, "polls.result.schulze"))
    rank = 1
    for level in result.levels:
        for index in level:
            label = option_label(options, index)
            score = result.scores[index]
            if poll.kind == POINTS:
                value = i18n.tn(lang, "polls.result.points", score)
            elif poll.kind == RANKING:
                value = i18n.tn(lang, "polls.result.beats", score)
            else:
                share = round(100 * score / voters) if voters else 0
                value = i18n.tn(lang, "polls.result.votes", score, share=share)
            lines.append(Markup("{}. {} – {}").format(rank, label, value))
        rank += len(level)
    lines.append(
        i18n.t(
            lang,
            "polls.result.voters_in_chats",
            voters=i18n.tn(lang, "polls.result.voters", voters),
            chats=i18n.tn(lang, "polls.result.chats", chats),
        )
    )
    return join(lines)


def vote_example(poll: Poll, lang: str) -> str:
    cmd = "vote" if lang == "en" else "stimme"
    count_ = len(store_polls.options_of(poll))
    if poll.kind == POINTS:
        total = poll.points or 5
        first = (total + 1) // 2
        rest = total - first
        tail = f" {letter(min(2, count_ - 1))}={rest}" if rest else ""
        return f"/{cmd} {poll.id} a={first}{tail}"
    if poll.kind == RANKING:
        return f"/{cmd} {poll.id} " + " ".join(letter(i) for i in reversed(range(count_)))
    if poll.kind == APPROVAL and (poll.max_choices or 1) > 1:
        return f"/{cmd} {poll.id} a {letter(count_ - 1)}"
    return f"/{cmd} {poll.id} {letter(min(1, count_ - 1))}"


def open_polls_text(lang: str, polls: list[Poll]) -> Markup:
    if not polls:
        return i18n.t(lang, "polls.open.none")
    lines: list[Markup | str] = [i18n.t(lang, "polls.open.header")]
    for poll in polls:
        lines.append(
            i18n.t(
                lang,
                "polls.open.line",
                n=poll.id,
                question=poll.question,
                last=letter(len(store_polls.options_of(poll)) - 1),
                example=vote_example(poll, lang),
            )
        )
    return join(lines)
