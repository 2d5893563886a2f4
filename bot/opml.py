"""``netzbot export-opml`` / ``netzbot import-opml FILE``: move feed lists between netzbot and
feed readers.

Export writes the ``[[feeds]]`` entries and, when this build has the news capability's ``feed``
table, the feeds added in chat, as OPML 2.0. Import turns an OPML file into ``[[feeds]]`` TOML
snippets to paste into ``netzbot.toml`` (it never rewrites the config file: comments and order
there are the operator's); feeds already configured or stored are skipped. Nested outlines
(folders) are flattened; a folder's title becomes a comment above its feeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import TextIO

from bot import i18n
from bot.cli_registry import CliVerb, register_verb
from bot.config import Config, load_config
from bot.ops_common import add_config_option, stored_feeds
from bot.types import ChatRef
from storage.db import Store

MAX_OPML_BYTES = 5_000_000


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None = None
    folder: str | None = None
    html_url: str | None = None


def export_opml(feeds: Iterable[tuple[str, str | None]], title: str, now: datetime) -> str:
    """OPML 2.0 of (url, name) pairs."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now.astimezone(UTC), usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for url, name in feeds:
        label = name or url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, depth first, folders remembered. Raises ValueError."""
    if len(data) > MAX_OPML_BYTES:
        raise ValueError(f"larger than {MAX_OPML_BYTES} bytes")
    if b"<!DOCTYPE" in data[:2048].upper() or b"<!ENTITY" in data.upper():
        raise ValueError("DOCTYPE/ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(str(exc)) from exc
    if root.tag != "opml":
        raise ValueError(f"root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise ValueError("no <body>")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()

    def walk(node: ET.Element, folder: str | None) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            title = (outline.get("title") or outline.get("text") or "").strip() or None
            if url:
                if url not in seen:
                    seen.add(url)
                    feeds.append(OpmlFeed(url, title, folder, outline.get("htmlUrl")))
            else:
                walk(outline, title or folder)

    walk(body, None)
    return feeds


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def feeds_to_toml(
    feeds: Iterable[OpmlFeed], post_to: list[str], mode: str, skip: set[str]
) -> tuple[str, int, list[str]]:
    """(TOML text, number of entries, skipped URLs)."""
    blocks: list[str] = []
    skipped: list[str] = []
    folder: str | None = None
    for feed in feeds:
        if feed.url in skip:
            skipped.append(feed.url)
            continue
        lines = []
        if feed.folder and feed.folder != folder:
            lines.append(f"# {feed.folder}")
        folder = feed.folder
        lines.append("[[feeds]]")
        lines.append(f"url = {toml_string(feed.url)}")
        if feed.title:
            lines.append(f"name = {toml_string(feed.title)}")
        lines.append("post_to = [" + ", ".join(toml_string(p) for p in post_to) + "]")
        if mode != "immediate":
            lines.append(f"mode = {toml_string(mode)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else ""), len(blocks), skipped


def import_opml(
    config: Config, data: bytes, name: str, post_to: list[str], mode: str, out: TextIO
) -> int:
    lang = config.bot.language
    try:
        feeds = parse_opml(data)
    except ValueError as exc:
        print(i18n.plain(lang, "ops.opml.bad_file", file=name, error=exc), file=sys.stderr)
        return 1
    if not feeds:
        print(i18n.plain(lang, "ops.opml.no_feeds", file=name), file=sys.stderr)
        return 1
    known = {url for url, _ in all_feeds(config)}
    text, n, skipped = feeds_to_toml(feeds, post_to, mode, known)
    out.write("# " + i18n.plain(lang, "ops.opml.import_header", n, file=name) + "\n")
    for url in skipped:
        out.write("# " + i18n.plain(lang, "ops.opml.skipped", url=url) + "\n")
    out.write("\n" + text)
    return 0


def all_feeds(config: Config) -> list[tuple[str, str | None]]:
    """``[[feeds]]`` first, then feeds added in chat (the news capability's table), by URL."""
    feeds = {f.url: f.name for f in config.feeds}
    url = config.storage.url
    if not (url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()):
        store = Store(url)
        try:
            for feed_url, name in stored_feeds(store):
                feeds.setdefault(feed_url, name)
        except Exception as exc:  # the config's feeds are still worth exporting
            print(f"netzbot: feeds in the database left out: {exc}", file=sys.stderr)
        finally:
            store.dispose()
    return list(feeds.items())


def _run_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # a ConfigError is reported by bot.cli (exit 2)
    feeds = all_feeds(config)
    text = export_opml(feeds, f"{config.bot.name} – Feeds", datetime.now(UTC))
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    n = len(feeds)
    print(i18n.plain(config.bot.language, "ops.opml.exported", n), file=sys.stderr)
    return 0


def _run_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # a ConfigError is reported by bot.cli (exit 2)
    try:
        post_to = [str(ChatRef.parse(p)) for p in args.post_to]
    except ValueError as exc:
        print(f"netzbot: --post-to: {exc}", file=sys.stderr)
        return 2
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else open(args.file, "rb").read()  # noqa: SIM115
    except OSError as exc:
        msg = i18n.plain(config.bot.language, "ops.file_error", file=args.file, error=exc)
        print(msg, file=sys.stderr)
        return 1
    return import_opml(config, data, args.file, post_to, args.mode, sys.stdout)


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", help="write to this file instead of stdout")
    add_config_option(parser)


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="OPML file from a feed reader (- stdin)")
    parser.add_argument(
        "--post-to",
        action="append",
        default=[],
        metavar="CHAT",
        help="chat for every imported feed, e.g. telegram:-1001234 (repeatable)",
    )
    parser.add_argument("--mode", choices=("immediate", "digest"), default="immediate")
    add_config_option(parser)


register_verb(
    CliVerb("export-opml", "write the [[feeds]] as OPML (stdout)", _configure_export, _run_export)
)
register_verb(
    CliVerb(
        "import-opml",
        "turn an OPML file into [[feeds]] entries for netzbot.toml",
        _configure_import,
        _run_import,
    )
)
