"""The result of a poll as a bar chart (PNG, matplotlib's Agg backend, labels in the chat's
language). matplotlib is imported on first use: it costs start-up time and memory that a bot
which never shows a chart should not pay."""

from __future__ import annotations

import io
import textwrap

from bot import i18n
from bot.types import Attachment
from handlers.poll_kinds import Tally, letter
from storage.models.polls import POINTS, RANKING, Poll

MAX_LABEL = 40


def _axis_label(lang: str, poll: Poll) -> str:
    if poll.kind == POINTS:
        return i18n.plain(lang, "polls.chart.points")
    if poll.kind == RANKING:
        return i18n.plain(lang, "polls.chart.beats")
    return i18n.plain(lang, "polls.chart.votes")


def render_png(lang: str, poll: Poll, options: list[str], result: Tally, voters: int) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # no pyplot: no global state between charts
    from matplotlib.ticker import MaxNLocator

    order = [i for level in result.levels for i in level]
    labels = [
        f"{letter(i)}) " + textwrap.shorten(options[i], MAX_LABEL, placeholder="…") for i in order
    ]
    values = [result.scores[i] for i in order]
    height = 1.2 + 0.45 * len(order)
    figure = Figure(figsize=(7.5, height), dpi=100)
    axes = figure.add_subplot()
    bars = axes.barh(range(len(order)), values, color="#2b6cb0")
    axes.set_yticks(range(len(order)), labels)
    axes.invert_yaxis()  # the winner on top
    axes.bar_label(bars, padding=3)
    axes.set_xlabel(_axis_label(lang, poll))
    locator = axes.xaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
        locator.set_params(integer=True)
    title = textwrap.shorten(poll.question, 70, placeholder="…")
    axes.set_title(
        f"{i18n.plain(lang, 'polls.chart.title', n=poll.id)}: {title}\n"
        + i18n.plain(lang, "polls.chart.voters", voters),
        fontsize=10,
    )
    axes.set_xlim(0, max([*values, 1]) * 1.15)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def chart_attachment(
    lang: str, poll: Poll, options: list[str], result: Tally, voters: int
) -> Attachment:
    name = "ergebnis" if lang != "en" else "result"
    return Attachment(
        f"{name}-{poll.id}.png", render_png(lang, poll, options, result, voters), "image/png"
    )
