"""Poll kinds: reading ``/umfrage`` settings and ``/stimme`` ballots, and counting.

Options are shown and typed as letters (a, b, c, …; the option's number works too). A ballot
is stored as a short string in ``poll_vote.option_ids``:

- single choice and approval (``art=mehrfach max=3``): the chosen options, ``"0,2"``;
- points (``art=punkte punkte=5``): ``index:points`` pairs, ``"0:3,2:2"``;
- ranking (``art=rangfolge``): the ranked options, most preferred first, ``"2,0,1"``;
  options left out share the last place. Counted with the Schulze method
  (the ``schulze-condorcet`` library; checked against published examples in the tests).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from schulze_condorcet import schulze_evaluate

from bot.arg_types import number_in, option_number
from bot.errors import UsageError
from storage.models.polls import APPROVAL, POINTS, RANKING, SINGLE

LETTERS = string.ascii_lowercase
MAX_POINTS = 100
KIND_WORDS = {
    "einfach": SINGLE,
    "single": SINGLE,
    "mehrfach": APPROVAL,
    "multiple": APPROVAL,
    "approval": APPROVAL,
    "punkte": POINTS,
    "points": POINTS,
    "rangfolge": RANKING,
    "ranking": RANKING,
    "rank": RANKING,
}
KIND_OPTIONS = ("art", "kind", "max", "punkte", "points")
CHOICES = number_in("polls.error.max")  # art=mehrfach max=N, N up to the options
POINTS_TO_GIVE = number_in("polls.error.points", high=MAX_POINTS, max=MAX_POINTS)
_STORED = re.compile(r"([0-9]+)(?::([0-9]+))?")  # one part of a stored ballot: "2" or "2:3"
SECRET_WORDS = ("geheim", "secret")


@dataclass(frozen=True)
class PollSettings:
    kind: str = SINGLE
    max_choices: int | None = None
    points: int | None = None
    secret: bool = False


class BallotError(UsageError):
    """A ballot that does not fit the poll; the handler adds the poll's usage and open polls."""


def letter(index: int) -> str:
    return LETTERS[index]


def settings_from(options: dict[str, str], secret: bool, option_count: int) -> PollSettings:
    """``art=…``, ``max=…``, ``punkte=…``, ``geheim`` -> PollSettings (checked)."""
    kind_word = (options.get("art") or options.get("kind") or "einfach").lower()
    kind = KIND_WORDS.get(kind_word)
    if kind is None:
        raise UsageError("polls.error.kind", value=kind_word)
    max_text = options.get("max")
    points_text = options.get("punkte") or options.get("points")
    if max_text is not None and kind != APPROVAL:
        raise UsageError("polls.error.max_only_approval")
    if points_text is not None and kind != POINTS:
        raise UsageError("polls.error.points_only_points")
    max_choices = None
    if kind == APPROVAL:
        max_choices = option_count
        if max_text is not None:
            max_choices = CHOICES.up_to(option_count, n=option_count).parse(max_text)
    points = None
    if kind == POINTS:
        points = 5
        if points_text is not None:
            points = POINTS_TO_GIVE.parse(points_text)
    return PollSettings(kind, max_choices, points, secret)


def option_index(word: str, count: int) -> int | None:
    """'b' or '2' -> 1; None when it names no option of a poll with ``count`` options."""
    word = word.strip().lower().rstrip(").,")
    if len(word) == 1 and word in LETTERS[:count]:
        return LETTERS.index(word)
    return option_number(word, count)


def _choices(words: list[str], count: int) -> list[int]:
    picked: list[int] = []
    for word in words:
        index = option_index(word, count)
        if index is None:
            raise BallotError("polls.error.choice", value=word, last=letter(count - 1))
        if index in picked:
            raise BallotError("polls.error.choice_twice", value=word)
        picked.append(index)
    return picked


_POINTS_WORD = re.compile(r"^([a-z0-9]+)[=:]([0-9]{1,9})$", re.IGNORECASE)  # b=3, b:3


def parse_ballot(settings: PollSettings, words: list[str], count: int) -> str:
    """The words after the poll number -> the stored ballot string (or a BallotError)."""
    words = [w for part in words for w in part.replace(",", " ").replace(";", " ").split()]
    if not words:
        raise BallotError("polls.error.no_choice")
    if settings.kind == SINGLE:
        if len(words) != 1:
            raise BallotError("polls.error.single_only")
        return str(_choices(words, count)[0])
    if settings.kind == APPROVAL:
        picked = _choices(words, count)
        if settings.max_choices is not None and len(picked) > settings.max_choices:
            raise BallotError("polls.error.too_many_choices", max=settings.max_choices)
        return ",".join(str(i) for i in sorted(picked))
    if settings.kind == RANKING:
        return ",".join(str(i) for i in _choices(words, count))
    total = settings.points or 0
    given: dict[int, int] = {}
    for word in words:
        match = _POINTS_WORD.match(word)
        index = option_index(match.group(1), count) if match else None
        if match is None or index is None:
            raise BallotError("polls.error.points_format", value=word, last=letter(count - 1))
        if index in given:
            raise BallotError("polls.error.choice_twice", value=match.group(1))
        given[index] = int(match.group(2))
    spent = sum(given.values())
    if spent > total:
        raise BallotError("polls.error.points_over", spent=spent, total=total)
    if spent == 0:
        raise BallotError("polls.error.no_choice")
    return ",".join(f"{i}:{p}" for i, p in sorted(given.items()) if p)


def decode(kind: str, value: str, count: int) -> list[tuple[int, int]]:
    """A stored ballot -> [(option, weight)] (points for points polls, rank order otherwise)."""
    pairs: list[tuple[int, int]] = []
    for part in value.split(","):
        match = _STORED.fullmatch(part)
        if match is None or int(match.group(1)) >= count:
            continue
        weight = int(match.group(2)) if kind == POINTS and match.group(2) else 1
        pairs.append((int(match.group(1)), weight))
    return pairs


@dataclass(frozen=True)
class Tally:
    """``scores``: votes per option (single, approval), points (points), or for a ranking the
    number of options each one beats in the Schulze order. ``levels``: the order, best first,
    options sharing a place together."""

    scores: list[int]
    levels: list[list[int]]


def tally(kind: str, ballots: list[str], count: int) -> Tally:
    if kind == RANKING:
        return _schulze(ballots, count)
    scores = [0] * count
    for value in ballots:
        for index, weight in decode(kind, value, count):
            scores[index] += weight
    levels: dict[int, list[int]] = {}
    for index in range(count):
        levels.setdefault(-scores[index], []).append(index)
    return Tally(scores, [levels[k] for k in sorted(levels)])


def ranking_vote_string(value: str, count: int) -> str:
    """'2,0' of 4 options -> '2>0>1=3' (unranked options share the last place)."""
    ranked = [i for i, _ in decode(RANKING, value, count)]
    rest = [str(i) for i in range(count) if i not in ranked]
    parts = [str(i) for i in ranked]
    if rest:
        parts.append("=".join(rest))
    return ">".join(parts)


def _schulze(ballots: list[str], count: int) -> Tally:
    candidates = [str(i) for i in range(count)]
    votes = [ranking_vote_string(b, count) for b in ballots if decode(RANKING, b, count)]
    order = schulze_evaluate(votes, candidates)
    levels = [[candidates.index(c) for c in level.split("=")] for level in order.split(">")]
    scores = [0] * count
    below = count
    for level in levels:
        below -= len(level)
        for index in level:
            scores[index] = below
    return Tally(scores, levels)
