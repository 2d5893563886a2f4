"""The parser over every feed in the shared corpus, plus the cases SOURCES.txt calls out."""

from __future__ import annotations

import re
import socket
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import feedparser.http
import pytest

from bot.feeds.errors import NotAFeed
from bot.feeds.parse import FeedItem, ParsedFeed, normalize_link, parse_feed
from tests.feedserver import corpus_feeds, corpus_headers, rss

FEEDS = corpus_feeds()
BASE = "https://feeds.example.org/dir/feed.xml"
NOT_FEEDS = {"illformed__rss_empty_document.xml"}  # only a comment: nothing to parse
# feeds whose every item carries a link (or a permalink guid)
ALL_LINKED = {
    "golem_de_iso-8859-1.xml", "heise_online_rdf_utf8.xml", "heise_developer.atom",
    "dustri_large_rss.xml", "ibash_windows-1251.xml", "tails_ikiwiki.rss", "tumblr.rss",
    "hackernews_rss_no_guid.xml", "samruby_atom_relative_uris.xml", "google_alerts.atom",
    "giantbomb_podcast_1.6MB.rss", "jn_pt_iso-8859-1.rss", "uol_no_decl_latin1.rss",
    "techcrunch_wordpress_feedburner.xml", "tenderlove_wordpress27.xml", "gmane_rss10.rss",
    "allthingsrss_feedburner.atom", "atom_wrapped_in_xhtml.xml", "relative_links.rss",
    "cerclepsy_no_decl_latin1.xml", "nodejs_vuln_v1.xml", "disqus_comments.rss",
}  # fmt: skip
TAG = re.compile(
    r"</?(?:a|b|i|p|div|span|br|img|script|style|svg|path|strong|em|ul|ol|li|h[1-6]|table|tr|td|font|iframe|html|body)\b[^>]*>",
    re.I,
)
ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,6});")
MOJIBAKE = re.compile(r"Ã[\x80-\xbf¡-ÿ]|â€")


def corpus(name: str) -> Path:
    matches = [p for p in FEEDS if p.name == name]
    assert matches, f"{name} missing from the corpus"
    return matches[0]


def parse_file(path: Path, url: str = BASE) -> ParsedFeed:
    body = path.read_bytes()
    return parse_feed(body, url=url, headers=corpus_headers(body))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to reach the network while parsing is recorded and refused."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args)[:80])
        raise OSError("network use during parsing")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(feedparser.http, "get", refuse)
    return attempts


def test_corpus_is_there() -> None:
    assert len(FEEDS) >= 60


@pytest.mark.parametrize("path", FEEDS, ids=[p.name for p in FEEDS])
def test_every_corpus_feed_parses_into_sane_items(path: Path, no_network: list[str]) -> None:
    if path.name in NOT_FEEDS:
        with pytest.raises(NotAFeed) as info:
            parse_file(path)
        assert info.value.code == "not_a_feed"
        return
    feed = parse_file(path)
    again = parse_file(path)
    assert no_network == []
    assert feed.title and not TAG.search(feed.title)
    keys = [item.key for item in feed.items]
    assert len(keys) == len(set(keys)), "item keys must be unique within a feed"
    assert keys == [item.key for item in again.items], "item keys must be stable"
    for item in feed.items:
        check_item(item)
    if path.name in ALL_LINKED:
        assert feed.items, "this feed has items"
        assert all(item.link for item in feed.items), "every item of this feed has a link"


def check_item(item: FeedItem) -> None:
    assert re.fullmatch(r"(id|link|hash):[0-9a-f]{32}", item.key)
    assert item.title.strip() == item.title and item.title
    assert "\n" not in item.title and len(item.title) <= 200
    for text in (item.title, item.summary):
        assert not TAG.search(text), f"markup left in {text[:80]!r}"
        assert not ENTITY.search(text), f"entity left in {text[:80]!r}"
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text)
    assert len(item.summary) <= 300
    if item.link is not None:
        assert re.match(r"https?://[^/\s]+", item.link), item.link
        assert item.norm_link and item.norm_link.startswith(("http://", "https://"))
    if item.published is not None:
        assert item.published.tzinfo is UTC or item.published.utcoffset().total_seconds() == 0


def titles(feed: ParsedFeed) -> str:
    return " ".join(item.title + " " + item.summary for item in feed.items)


def test_golem_latin1_umlauts_and_dates() -> None:
    feed = parse_file(corpus("golem_de_iso-8859-1.xml"))
    assert feed.title == "Golem.de"
    text = titles(feed)
    assert not MOJIBAKE.search(text)
    assert "wünschen" in text and re.search("[äöüß]", text)
    first = feed.items[0]
    assert first.title.startswith("Red Dead Redemption 2: Hinweise auf PC-Umsetzung")
    assert first.published == datetime(2018, 10, 28, 12, 48, tzinfo=UTC)  # 13:48 +0100
    assert first.key.startswith("id:")


def test_heise_rdf_umlauts_no_guid_and_tracking_params() -> None:
    feed = parse_file(corpus("heise_online_rdf_utf8.xml"))
    assert feed.title == "heise online News"
    assert any(item.title == "Mega-Deal: IBM übernimmt Red Hat" for item in feed.items)
    assert any("Vorsichtsmaßnahmen" in item.title for item in feed.items)
    assert not MOJIBAKE.search(titles(feed))
    for item in feed.items:
        assert item.key.startswith("link:")  # no guid, no date: the link is the identity
        assert item.link and "wt_mc=" in item.link  # the posted link stays as published
        assert item.norm_link and "wt_mc" not in item.norm_link and "?" not in item.norm_link


def test_heise_developer_atom_offsets_become_utc() -> None:
    feed = parse_file(corpus("heise_developer.atom"))
    first = feed.items[0]
    assert first.title == "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"
    assert first.published == datetime(2016, 2, 1, 16, 22, tzinfo=UTC)
    assert "verfügbare" in first.summary


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("illformed__chardet__koi8r.xml", "Как пережить новогоднюю ночь"),
        ("ibash_windows-1251.xml", "Цитата #17703"),
        ("cerclepsy_no_decl_latin1.xml", "Perturbateurs endocriniens : quels effets sur le cerveau ?"),
        ("jn_pt_iso-8859-1.rss", "Mãe de utente é a nova presidente da Raríssimas"),
        ("uol_no_decl_latin1.rss", "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"),
        ("large_atom_feed_that_needs_css_sanitisation", "Невидимая броня для Вашего Nokia 5800"),
        ("encoding__demoronize-1.xml", "don’t"),
    ],
)  # fmt: skip
def test_encodings_decode_to_the_right_characters(name: str, expected: str) -> None:
    path = next(p for p in FEEDS if name in p.name)
    assert any(item.title == expected for item in parse_file(path).items)


def test_http_charset_overrides_declared_encoding() -> None:
    feed = parse_file(corpus("encoding__http_text_xml_charset_overrides_encoding_2.xml"))
    assert feed.items[0].summary == "This is a £“test.”"


def test_content_location_header_is_the_base_for_relative_links() -> None:
    feed = parse_file(corpus("wellformed__base__http_entry_link_base_content_location.xml"))
    assert feed.items[0].link == "http://example.com/relative/link"


def test_relative_links_resolve_against_the_final_url_and_scripts_vanish() -> None:
    feed = parse_file(corpus("relative_links.rss"), url="https://verein.example/feeds/news.xml")
    item = feed.items[0]
    assert item.link == "https://verein.example/feeds/blog/post/1"
    assert feed.link == "https://verein.example/feeds/file.html"
    assert item.title == "one two three" and "evil" not in item.summary


def test_samruby_relative_atom_links_are_absolute() -> None:
    feed = parse_file(
        corpus("samruby_atom_relative_uris.xml"), url="https://intertwingly.example/blog/index.atom"
    )
    assert feed.items[0].link == "https://intertwingly.example/blog/2013/01/30/Plex"


def test_ampersands_in_links_survive() -> None:
    feed = parse_file(corpus("illformed__rss_item_link_corrupted_ampersands.xml"))
    assert feed.items[0].link == "http://link/get?a=1&b=2"


def test_identity_prefers_guid_then_link_then_title_and_date() -> None:
    conflict = parse_file(corpus("wellformed__rss__item_guid_isPermaLink_conflict_link.xml"))
    guid_only = parse_file(corpus("wellformed__rss__item_guid.xml"))
    assert conflict.items[0].link == "http://link.example.com/"
    assert conflict.items[0].key == guid_only.items[0].key  # same guid, different link
    link_only = parse_file(corpus("wellformed__rss__item_link.xml"))
    assert link_only.items[0].key.startswith("link:")
    hn = parse_file(corpus("hackernews_rss_no_guid.xml"))
    assert all(item.key.startswith("link:") for item in hn.items) and len(hn.items) == 30


def test_edited_item_keeps_its_key() -> None:
    v1 = parse_file(corpus("nodejs_vuln_v1.xml")).items[0]
    v2 = parse_file(corpus("nodejs_vuln_v2.xml")).items[0]
    assert v1.published != v2.published and v1.summary != v2.summary
    assert v1.key == v2.key


def test_hash_identity_ignores_feed_order_but_not_title_or_date() -> None:
    a = {"title": "Sitzung", "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}
    b = {"title": "Sitzung", "pubDate": "Tue, 03 Nov 2026 10:00:00 GMT"}
    one = parse_feed(rss([a, b]), url=BASE)
    two = parse_feed(rss([b, a]), url=BASE)
    assert {i.key for i in one.items} == {i.key for i in two.items}
    assert len({i.key for i in one.items}) == 2
    assert all(i.key.startswith("hash:") for i in one.items)


def test_html_titles_and_summaries_become_plain_text() -> None:
    alerts = parse_file(corpus("google_alerts.atom"))
    assert (
        alerts.items[1].title == "Slack Stock Has a Compelling Story and the Numbers to Back It Up"
    )
    escaped = parse_file(corpus("wellformed__rss__item_description_escaped_markup.xml"))
    naked = parse_file(corpus("wellformed__rss__item_description_naked_markup.xml"))
    # no title: the plain summary becomes the title (and is not repeated below it)
    assert escaped.items[0].title == naked.items[0].title == "Example description"
    assert escaped.items[0].summary == ""
    crazy = parse_file(corpus("wellformed__sanitize__item_description_crazy.xml"))
    assert "<" not in crazy.items[0].summary and "onload" not in crazy.items[0].summary


def test_summaries_are_trimmed_at_a_word_with_an_ellipsis() -> None:
    words = " ".join(f"Wort{n}" for n in range(200))
    feed = parse_feed(rss([("Titel", "https://a.example/1", words)]), url=BASE, summary_chars=60)
    summary = feed.items[0].summary
    assert summary.endswith("…") and len(summary) <= 60
    assert re.fullmatch(r"(Wort\d+ )*Wort\d+…", summary)


def test_entities_are_decoded() -> None:
    body = rss(
        [
            (
                "Verkehr &amp;amp; Klima",
                "https://a.example/1",
                "Gr&amp;uuml;n &amp;amp; sch&amp;ouml;n",
            )
        ]
    )
    item = parse_feed(body, url=BASE).items[0]
    assert item.summary == "Grün & schön"


def test_big_podcast_feed() -> None:
    feed = parse_file(corpus("giantbomb_podcast_1.6MB.rss"))
    assert len(feed.items) == 730
    newest = feed.newest(3)
    assert [i.published for i in newest] == sorted((i.published for i in newest), reverse=True)
    assert newest[0].title == "Giant Bombcast 603: Call of Tuesday"


def test_html_page_is_not_a_feed() -> None:
    page = b"<!doctype html><html><head><title>Hallo</title></head><body><p>Kein Feed</p></body></html>"
    with pytest.raises(NotAFeed) as info:
        parse_feed(page, url=BASE, headers={"content-type": "text/html; charset=utf-8"})
    assert info.value.params["content_type"] == "text/html"


def test_a_body_that_looks_like_a_path_is_not_opened() -> None:
    with pytest.raises(NotAFeed):
        parse_feed(b"/etc/passwd", url=BASE)


@pytest.mark.parametrize(
    ("link", "normal"),
    [
        ("HTTPS://Verein.Example:443/a/b?utm_source=x&id=3#top", "https://verein.example/a/b?id=3"),
        ("http://verein.example", "http://verein.example/"),
        ("http://verein.example:8080/x?fbclid=1", "http://verein.example:8080/x"),
        ("https://www.heise.de/m-1.html?wt_mc=rss.ho.beitrag.rdf", "https://www.heise.de/m-1.html"),
        ("https://a.example/?a=1&b=2", "https://a.example/?a=1&b=2"),
        ("mailto:x@example.org", None),
        ("", None),
    ],
)
def test_normalize_link(link: str, normal: str | None) -> None:
    assert normalize_link(link) == normal


def huge_feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Meldung {i}</title><guid>g{i}</guid>"
        f"<link>https://verein.example/{i}</link></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Riesig</title>'
        f"{items}</channel></rss>"
    ).encode()


def test_items_per_feed_are_capped() -> None:
    """Issue 13 item 6: a 100,000-item feed is read as its first MAX_ITEMS items (document
    order: the newest first), cut before feedparser builds the rest."""
    from bot.feeds.cap import cap_items
    from bot.feeds.parse import MAX_ITEMS

    body = huge_feed(100_000)
    feed = parse_feed(body, url=BASE)
    assert len(feed.items) == MAX_ITEMS
    assert feed.items[0].title == "Meldung 0" and feed.items[-1].title == f"Meldung {MAX_ITEMS - 1}"
    assert feed.warning is None  # the cut document is well-formed
    short, cut = cap_items(body, 3)
    assert cut and short.endswith(
        b"Meldung 2</title><guid>g2</guid><link>https://verein.example/2</link></item></channel></rss>"
    )
    assert cap_items(huge_feed(3), 3) == (huge_feed(3), False)
    assert len(parse_feed(body, url=BASE, max_items=5).items) == 5


def test_capping_atom_rdf_and_other_encodings() -> None:
    from bot.feeds.cap import cap_items

    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        + b"".join(b"<entry><title>E%d</title><id>urn:%d</id></entry>" % (i, i) for i in range(10))
        + b"</feed>"
    )
    assert [i.title for i in parse_feed(cap_items(atom, 2)[0], url=BASE).items] == ["E0", "E1"]
    rdf = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel><title>c</title><items><rdf:Seq>'
        b'<rdf:li resource="x"/></rdf:Seq></items></channel>'
        + b"".join(
            b"<item><title>R%d</title><link>https://r.example/%d</link></item>" % (i, i)
            for i in range(10)
        )
        + b"</rdf:RDF>"
    )
    assert [i.title for i in parse_feed(cap_items(rdf, 3)[0], url=BASE).items] == ["R0", "R1", "R2"]
    latin = (
        b'<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel>'
        + b"".join(
            b"<item><title>\x93%d\x94</title><guid>%d</guid></item>" % (i, i) for i in range(5)
        )
        + b"</channel></rss>"
    )
    assert [i.title for i in parse_feed(cap_items(latin, 2)[0], url=BASE).items] == ["“0”", "“1”"]
    utf16 = latin.decode("cp1252").replace("windows-1252", "utf-16").encode("utf-16")
    assert [i.title for i in parse_feed(cap_items(utf16, 2)[0], url=BASE).items] == ["“0”", "“1”"]
    utf32 = latin.decode("cp1252").replace("windows-1252", "utf-32").encode("utf-32")
    assert cap_items(utf32, 2) == (utf32, False)  # not cut: feedparser gets it whole
    assert len(parse_feed(utf32, url=BASE, max_items=2).items) <= 2  # and still takes two at most


@pytest.mark.parametrize(
    ("document", "feed_title", "item_text"),
    [
        (  # an unclosed comment hides the rest, as feedparser's sanitiser does
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">safe&lt;!--</title>'
            b"<entry><id>1</id><title type='html'>Termin&lt;!-- intern</title></entry></feed>",
            "safe",
            "Termin",
        ),
        (  # a malformed comment, with a script behind it
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">sa&lt;!-- -- '
            b"nonwhitespace &gt;fe&lt;script&gt;alert(1);&lt;/script&gt;</title>"
            b"<entry><id>1</id><title>x</title></entry></feed>",
            "safe",
            "x",
        ),
        (  # Atom 0.3 base64 title: plain text by the letter, HTML in practice
            b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title><entry>'
            b'<id>1</id><title mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title></entry></feed>',
            "T",
            "Example Atom",
        ),
        (  # an unclosed <object> no longer swallows the text after it
            b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title><entry>'
            b'<id>1</id><title type="text/html" mode="escaped">safe&lt;object '
            b'classid="clsid:C932BA85"&gt; description</title></entry></feed>',
            "T",
            "safe description",
        ),
    ],
)
def test_markup_never_leaks_into_titles(document: bytes, feed_title: str, item_text: str) -> None:
    """Issue 13 item 13: what feedparser's own sanitiser yields, never markup."""
    feed = parse_feed(document, url=BASE)
    assert feed.title == feed_title
    assert [item.title for item in feed.items] == [item_text]


def test_unclosed_object_in_a_description_keeps_the_text() -> None:
    doc = (
        b"<rss version='2.0'><channel><title>T</title><item><guid>1</guid><title>t</title>"
        b'<description>safe&lt;object classid="clsid:C932BA85"&gt; description</description>'
        b"</item></channel></rss>"
    )
    assert parse_feed(doc, url=BASE).items[0].summary == "safe description"


def test_plain_text_titles_stay_literal() -> None:
    doc = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">a &lt; b</title>'
        b'<entry><id>1</id><title type="text">Warum &lt;b&gt; fett macht</title></entry></feed>'
    )
    feed = parse_feed(doc, url=BASE)
    assert feed.title == "a < b" and feed.items[0].title == "Warum <b> fett macht"
