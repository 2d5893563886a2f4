"""``netzbot export-opml`` / ``import-opml``: [[feeds]] ↔ OPML."""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

from bot.cli import main
from bot.config import Config, FeedEntry
from bot.opml import export_opml, feeds_to_toml, parse_opml
from storage.db import Store

# Shaped like a feed reader's export (Thunderbird/Feedly style: folders, text vs. title).
READER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Abonnements</title></head>
  <body>
    <outline text="Kommunal" title="Kommunal">
      <outline type="rss" text="Stadt &amp; Land" title="Stadt &amp; Land"
               xmlUrl="https://example.org/stadt/feed.xml?lang=de&amp;x=1" htmlUrl="https://example.org/"/>
      <outline text="Unterordner">
        <outline type="rss" text="Bürgerhaushalt \u201eNews\u201c" xmlUrl="https://buergerhaushalt.example/rss"/>
      </outline>
    </outline>
    <outline type="rss" text="ohne Ordner" xmlUrl="https://news.example/atom"/>
    <outline type="rss" text="doppelt" xmlUrl="https://news.example/atom"/>
    <outline text="leerer Ordner"/>
  </body>
</opml>
"""


def test_parse_reader_export_flattens_folders() -> None:
    feeds = parse_opml(READER_EXPORT.encode())
    assert [(f.url, f.title, f.folder) for f in feeds] == [
        ("https://example.org/stadt/feed.xml?lang=de&x=1", "Stadt & Land", "Kommunal"),
        ("https://buergerhaushalt.example/rss", "Bürgerhaushalt „News“", "Unterordner"),
        ("https://news.example/atom", "ohne Ordner", None),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body/></html>",
        b"<opml><head/></opml>",
        b"not xml at all <",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><opml><body/></opml>',
    ],
)
def test_parse_rejects_what_is_not_opml(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_opml(data)


def test_toml_snippets_are_valid_feed_entries() -> None:
    feeds = parse_opml(READER_EXPORT.encode())
    text, n, skipped = feeds_to_toml(
        feeds, ["telegram:-1001234"], "digest", {"https://news.example/atom"}
    )
    assert n == 2 and skipped == ["https://news.example/atom"]
    data = tomllib.loads(text)
    entries = [FeedEntry(**e) for e in data["feeds"]]
    assert [e.url for e in entries] == [
        "https://example.org/stadt/feed.xml?lang=de&x=1",
        "https://buergerhaushalt.example/rss",
    ]
    assert entries[1].name == "Bürgerhaushalt „News“"
    assert all(e.post_to == ["telegram:-1001234"] and e.mode == "digest" for e in entries)
    assert "# Kommunal" in text


def test_export_round_trips_through_import() -> None:
    config = Config(
        feeds=[
            {"url": "https://a.example/feed?x=1&y=2", "name": 'Quotes "&" <tags>'},
            {"url": "https://b.example/rss"},
        ]
    )
    feeds = [(f.url, f.name) for f in config.feeds]
    xml = export_opml(feeds, "netzbot – Feeds", datetime(2026, 11, 22, tzinfo=UTC))
    root = ET.fromstring(xml.encode())
    assert root.get("version") == "2.0"
    assert root.findtext("head/dateCreated") == "Sun, 22 Nov 2026 00:00:00 GMT"
    back = parse_opml(xml.encode())
    assert [(f.url, f.title) for f in back] == [
        ("https://a.example/feed?x=1&y=2", 'Quotes "&" <tags>'),
        ("https://b.example/rss", "https://b.example/rss"),
    ]


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "netzbot.toml"
    path.write_text(
        '[[feeds]]\nurl = "https://news.example/atom"\nname = "Schon da"\n'
        'post_to = ["telegram:-1001"]\n',
        encoding="utf-8",
    )
    return path


def test_cli_export_and_import(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    assert main(["export-opml", "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert 'xmlUrl="https://news.example/atom"' in captured.out
    assert "1 Feed als OPML exportiert." in captured.err

    out_file = tmp_path / "feeds.opml"
    assert main(["export-opml", "-o", str(out_file), "--config", str(config)]) == 0
    assert parse_opml(out_file.read_bytes())[0].title == "Schon da"

    opml = tmp_path / "reader.opml"
    opml.write_text(READER_EXPORT, encoding="utf-8")
    argv = ["import-opml", str(opml), "--post-to", "signal:group.YWJj", "--config", str(config)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "übersprungen, schon konfiguriert: https://news.example/atom" in out
    entries = tomllib.loads(out)["feeds"]
    assert len(entries) == 2 and entries[0]["post_to"] == ["signal:group.YWJj"]
    # the snippet appended to the config gives a valid configuration
    from bot.config import load_config

    config.write_text(config.read_text() + "\n" + out, encoding="utf-8")
    assert len(load_config(config).feeds) == 3


def test_cli_import_errors(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline text='x'/></body></opml>", encoding="utf-8")
    assert main(["import-opml", str(bad), "--config", str(config)]) == 1
    assert "enthält keine Feeds" in capsys.readouterr().err
    assert main(["import-opml", str(tmp_path / "nope.opml"), "--config", str(config)]) == 1
    assert "nope.opml" in capsys.readouterr().err
    assert main(["import-opml", str(bad), "--post-to", "whatsapp:1", "--config", str(config)]) == 2


def stored_feed_table(store: Store) -> Table:
    """Shaped like the news capability's ``feed`` table (own name: no clash after merging)."""
    table = Table(
        "test_feed",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("url", String(2000), unique=True),
        Column("name", String(300)),
        Column("title", String(300)),
        Column("failures", Integer, default=0),
        Column("paused", Boolean, default=False),
    )
    table.create(store.engine)
    return table


def test_export_includes_feeds_added_in_chat(store: Store, tmp_path: Path, capsys, monkeypatch):
    table = stored_feed_table(store)
    with store.engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {"url": "https://news.example/atom", "name": None, "title": "doppelt"},
                {"url": "https://chat.example/rss", "name": None, "title": "Im Chat abonniert"},
            ],
        )
    monkeypatch.setattr("bot.ops_common.feed_table", lambda: table)
    config = write_config(tmp_path)
    config.write_text(f'[storage]\nurl = "{store.url}"\n' + config.read_text(), "utf-8")
    assert main(["export-opml", "--config", str(config)]) == 0
    feeds = parse_opml(capsys.readouterr().out.encode())
    assert [(f.url, f.title) for f in feeds] == [
        ("https://news.example/atom", "Schon da"),
        ("https://chat.example/rss", "Im Chat abonniert"),
    ]
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_EXPORT.replace("news.example/atom", "chat.example/rss"), "utf-8")
    assert main(["import-opml", str(opml), "--config", str(config)]) == 0
    assert "schon konfiguriert: https://chat.example/rss" in capsys.readouterr().out
