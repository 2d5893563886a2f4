"""bot.args.split_words: the quoting rules of a POSIX shell (what ``shlex`` gave), at a cost
that does not grow with Python work per character (shlex read one character at a time: a
100,000-character message took 0.13-0.26 s to split, and anyone can send such messages)."""

from __future__ import annotations

import itertools
import random
import shlex
import sys
from collections.abc import Callable

import pytest

from bot.args import _joined, parse_args, split_words

GERMAN_QUOTES = str.maketrans({"„": '"', "“": '"', "”": '"', "«": '"', "»": '"'})


def shell_words(rest: str) -> list[str]:
    """The reference: what split_words returned when it ran ``shlex``."""
    text = rest.translate(GERMAN_QUOTES)
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:  # unbalanced quotes or a trailing backslash: plain words
        return text.split()


ALPHABET = ["a", " ", '"', "'", "\\", "\t", "„", "\n"]
MORE = [*ALPHABET, "\xa0", "“", "=", "ß", "\r", "»"]


def test_every_short_text_splits_as_the_shell_would() -> None:
    texts = ("".join(t) for n in range(6) for t in itertools.product(ALPHABET, repeat=n))
    differ = [
        (t, shell_words(t), split_words(t)) for t in texts if split_words(t) != shell_words(t)
    ]
    assert differ == []


def test_random_longer_texts_split_as_the_shell_would() -> None:
    rng = random.Random(20261130)
    texts = ["".join(rng.choices(MORE, k=rng.randint(6, 40))) for _ in range(20_000)]
    differ = [
        (t, shell_words(t), split_words(t)) for t in texts if split_words(t) != shell_words(t)
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('a "b c" d', ["a", "b c", "d"]),
        ("it's \"open", ["it's", '"open']),  # unbalanced: plain words
        ('x="a \\" b"y', ['x=a " b' + "y"]),
        ("'a \\ b' \"\" c\\ d", ["a \\ b", "", "c d"]),
        ('"a \\x"', ["a \\x"]),
        ("a\\", ["a\\"]),  # a trailing backslash: plain words
        ("a\xa0b\u2003c", ["a\xa0b\u2003c"]),  # only space, tab, CR and LF separate words
        ("„Bürgerrat Mitte“ x", ["Bürgerrat Mitte", "x"]),
    ],
)
def test_quoting_examples(text: str, words: list[str]) -> None:
    assert split_words(text) == words == shell_words(text)


def folded(value: str, words: list[str]) -> str:
    """The reference: how parse_args grew an option's value word by word before."""
    for word in words:
        value = f"{value} {word}".strip()
    return value


def test_option_values_join_as_word_by_word_stripping_did() -> None:
    pieces = ["", " ", "a", " a", "a ", " a ", "\xa0", "a\xa0b", "\t x"]
    rng = random.Random(7)
    cases = [(rng.choice(pieces), rng.choices(pieces, k=rng.randint(0, 6))) for _ in range(20_000)]
    differ = [(v, w) for v, w in cases if _joined(v, w) != folded(v, w)]
    assert differ == []
    quoted = parse_args('X ort="Rathaus " Köln " " link=" a" b', ("ort", "link"))
    assert quoted.options == {"ort": "Rathaus  Köln", "link": "a b"}


def calls_made(work: Callable[[], object]) -> int:
    """Function calls (Python and built-in) made while ``work`` runs: a measure of cost that
    neither the machine's speed nor its load changes."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100_000,
        " ".join(["wort"] * 20_000),
        '"' + "x " * 50_000 + '"',  # one quoted word
        '"' + "x " * 50_000,  # a quote that never closes
    ],
    ids=["one-word", "words", "quoted", "unclosed"],
)
def test_a_long_text_costs_no_work_per_character(text: str) -> None:
    assert calls_made(lambda: split_words(text)) < 50
    assert calls_made(lambda: shell_words(text)) > 100_000  # what it cost before


def test_quoted_pieces_cost_a_call_each_not_one_per_character() -> None:
    text = "a\\ bcd" * 20_000  # 140,000 characters, 20,000 escapes
    assert calls_made(lambda: split_words(text)) < 3 * 20_000  # _unquote and its .groups()
    assert calls_made(lambda: shell_words(text)) > 140_000
