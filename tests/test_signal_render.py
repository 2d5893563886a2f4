"""Neutral markup → Signal styled text, checked through the fake's model of the service's
marker parser (what a Signal user finally sees)."""

from __future__ import annotations

from bot.connectors.signal_render import MAX_CHARS, ZWSP, render
from bot.markup import Markup, bold, esc, link
from tests.fakes.signal import parse_styled


def seen(markup: str) -> list[tuple[str, list[str]]]:
    out = []
    for part in render(markup):
        out.append(parse_styled(part.text) if part.styled else (part.text, []))
    return out


def test_plain_text_is_sent_verbatim_in_normal_mode() -> None:
    [part] = render(esc("Treffen * um 18 Uhr ~ ca. | Raum `B` \\ Ende"))
    assert not part.styled
    assert part.text == "Treffen * um 18 Uhr ~ ca. | Raum `B` \\ Ende"


def test_bold_title_and_escaped_specials() -> None:
    text = Markup("{}\n{}").format(bold("Termine"), "Do, 3. Dezember: Plenum *wichtig* a|b ~x~")
    [(visible, styles)] = seen(text)
    assert visible == "Termine\nDo, 3. Dezember: Plenum *wichtig* a|b ~x~"
    assert styles == ["0:7:BOLD"]


def test_every_supported_style() -> None:
    text = Markup("<b>fett</b> <i>kursiv</i> <s>weg</s> <code>x*y</code> <pre>block</pre> <u>u</u>")
    [(visible, styles)] = seen(text)
    assert visible == "fett kursiv weg x*y block u"
    assert styles == [
        "0:4:BOLD",
        "5:6:ITALIC",
        "12:3:STRIKETHROUGH",
        "16:3:MONOSPACE",
        "20:5:MONOSPACE",
    ]


def test_nested_styles_close_in_order() -> None:
    [(visible, styles)] = seen(Markup("<b>a <s>b</s> c</b>"))
    assert visible == "a b c"
    assert sorted(styles) == ["0:5:BOLD", "2:1:STRIKETHROUGH"]


def test_links_become_text_with_url() -> None:
    text = Markup("Protokoll: {} und {}").format(
        link("hier", "https://example.org/~pad*1"), link("https://x.org", "https://x.org")
    )
    [(visible, _)] = seen(Markup("<b>Doku</b> ") + text)
    assert visible == "Doku Protokoll: hier (https://example.org/~pad*1) und https://x.org"


def test_italic_followed_by_bold_and_trailing_specials_keep_their_meaning() -> None:
    [(visible, styles)] = seen(Markup("<i>a</i><b>b</b> x* <b>y</b> c\\<b>z</b>"))
    assert visible.replace(ZWSP, "") == "ab x* y c\\z"
    assert [s.split(":")[2] for s in styles] == ["ITALIC", "BOLD", "BOLD", "BOLD"]


def test_bold_directly_followed_by_italic_stays_two_runs() -> None:
    """Issue 13 item 32: ``**a***b*`` reads as a bold-italic marker on newer servers, which then
    drop every style of the message."""
    for markup in ("<b>a</b><i>b</i>", "<b>Termin</b><i> (abgesagt)</i> <b>x</b><i>y</i>z"):
        [part] = render(Markup(markup))
        assert "***" not in part.text.replace(ZWSP, "|")
    [(visible, styles)] = seen(Markup("<b>a</b><i>b</i>"))
    assert visible.replace(ZWSP, "") == "ab"
    assert [s.split(":")[2] for s in styles] == ["BOLD", "ITALIC"]


def test_long_text_is_split_at_paragraphs_with_styles_intact() -> None:
    paragraphs = [Markup("<b>Titel {}</b>\n{}").format(i, "wort " * 120) for i in range(10)]
    parts = seen(Markup("\n\n").join(paragraphs))
    assert len(parts) > 1
    for visible, styles in parts:
        assert 0 < len(visible) <= MAX_CHARS
        assert visible.startswith("Titel ")  # cut between paragraphs, not inside one
        assert styles and all(s.endswith(":BOLD") for s in styles)
    joined = " ".join(v for v, _ in parts)
    assert all(f"Titel {i}\n" in joined for i in range(10))


def test_one_huge_paragraph_is_split_at_spaces() -> None:
    parts = render(esc("abcdefghi " * 500), limit=1000)
    assert len(parts) == 5
    assert all(len(p.text) <= 1000 and not p.text.endswith(" ") for p in parts)
    assert "".join(p.text + " " for p in parts).split() == ["abcdefghi"] * 500


def test_empty_markup_renders_nothing() -> None:
    assert render(Markup("  \n ")) == []
