"""Neutral markup → Telegram HTML: every part must pass Telegram's own HTML rules (checked with
the fake's port of tdlib's parser) and show exactly the intended text."""

from __future__ import annotations

import random

import pytest
from markupsafe import Markup, escape

from bot.connectors.telegram_render import (
    MESSAGE_LIMIT,
    plain_text,
    render_parts,
)
from tests.fakes.telegram_html import parse_html, utf16_len


def shown(html: str) -> str:
    return parse_html(html)[0]


@pytest.mark.parametrize(
    ("markup", "expected_html", "expected_text"),
    [
        ("<b>fett</b> &amp; <i>kursiv</i>", "<b>fett</b> &amp; <i>kursiv</i>", "fett & kursiv"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;",
         "<script>alert(1)</script>"),
        ("Tom &#39;n&#39; &#34;Jerry&#34; &nbsp;x", "Tom 'n' \"Jerry\" \xa0x", "Tom 'n' \"Jerry\" \xa0x"),
        ("<b>offen", "<b>offen</b>", "offen"),
        ("zu</i>", "zu", "zu"),
        ("<b><i>x</b></i>y", "<b><i>x</i></b>y", "xy"),
        ('<a href="https://x.test/?a=1&amp;b=&quot;2&quot;">Link</a>',
         '<a href="https://x.test/?a=1&amp;b=&quot;2&quot;">Link</a>', "Link"),
        ("<a>ohne Ziel</a>", "ohne Ziel", "ohne Ziel"),
        ("<h1>Titel</h1><br>neu", "Titel\nneu", "Titel\nneu"),
        ("a < b > c", "a &lt; b &gt; c", "a < b > c"),
    ],
)  # fmt: skip
def test_render_is_valid_telegram_html(markup: str, expected_html: str, expected_text: str) -> None:
    [html] = render_parts(markup)  # what the connector sends
    assert html == expected_html
    assert shown(html) == expected_text


def test_hostile_title_built_with_markupsafe() -> None:
    title = '<script>alert("x")</script> & <b>Gruppe'
    markup = Markup("<b>{}</b> tagt morgen").format(title)
    [html] = render_parts(markup)
    assert shown(html) == f"{title} tagt morgen"
    assert parse_html(html)[1][0]["type"] == "bold"


def test_short_text_is_one_part() -> None:
    assert render_parts("<b>Hallo</b>\nWelt") == ["<b>Hallo</b>\nWelt"]


def test_long_text_splits_at_lines_and_keeps_tags_valid() -> None:
    lines = [f"<b>Termin {i}</b>: <i>{escape('Ort & <Raum>')} {i}</i>" for i in range(600)]
    markup = "<pre>" + "\n".join(lines[:3]) + "</pre>\n" + "\n".join(lines[3:])
    parts = render_parts(markup)
    assert len(parts) > 1
    texts = [shown(p) for p in parts]
    assert all(utf16_len(t) <= MESSAGE_LIMIT for t in texts)
    assert "".join(texts) == plain_text(markup)
    for text in texts[1:]:
        assert text.startswith("Termin ")  # cut at a line boundary


def test_tag_spanning_a_cut_is_closed_and_reopened() -> None:
    markup = "<b>" + "\n".join("zeile" * 10 for _ in range(200)) + "</b>"
    parts = render_parts(markup, limit=500)
    assert len(parts) > 5
    for part in parts:
        assert part.startswith("<b>") and part.endswith("</b>")
        entities = parse_html(part)[1]
        assert entities[0]["type"] == "bold"


def test_one_huge_line_is_cut_at_spaces_then_anywhere() -> None:
    words = " ".join(["wort"] * 3000)
    parts = render_parts(words, limit=1000)
    assert all(utf16_len(shown(p)) <= 1000 for p in parts)
    assert all(not p.startswith(" ") and "wor " not in p for p in parts[:-1])
    assert "".join(shown(p) for p in parts) == words
    blob = "x" * 2500
    assert [len(p) for p in render_parts(blob, limit=1000)] == [1000, 1000, 500]


def test_astral_characters_count_twice_and_are_not_split() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    parts = render_parts(text)
    assert len(parts) == 2
    assert all(utf16_len(p) <= 4000 for p in parts)
    assert "".join(parts) == text


def test_random_markup_always_renders_valid_parts() -> None:
    rng = random.Random(4)
    tags = ["b", "i", "u", "s", "code", "pre", "a", "script", "x-y", "br"]
    alphabet = [
        "a",
        "ä",
        " ",
        "\n",
        "&",
        "<",
        ">",
        '"',
        "'",
        "😀",
        "&amp;",
        "&lt;",
        "&#39;",
        "&nbsp;",
    ]
    for _ in range(300):
        chunks = []
        for _ in range(rng.randint(1, 60)):
            roll = rng.random()
            tag = rng.choice(tags)
            if roll < 0.2:
                chunks.append(
                    f'<{tag} href="http://x.test/{rng.randint(0, 9)}">'
                    if tag == "a"
                    else f"<{tag}>"
                )
            elif roll < 0.35:
                chunks.append(f"</{tag}>")
            else:
                chunks.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))))
        markup = "".join(chunks)
        for part in render_parts(markup, limit=rng.choice([50, 200, 4000])):
            text, _ = parse_html(part)  # raises on anything Telegram would reject
            assert text.strip()
