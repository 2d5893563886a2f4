"""The in-process metrics registry and its Prometheus text rendering."""

from __future__ import annotations

import pytest

from bot.metrics import Counter, Gauge, Histogram, Registry


def test_counter_labels_and_escaping() -> None:
    c = Counter("x_total", 'Help with "quotes"\nand a newline', ("feed",))
    c.inc(feed='https://a.example/?q="1"\\')
    c.inc(2, feed='https://a.example/?q="1"\\')
    lines = c.render().splitlines()
    assert lines[0] == '# HELP x_total Help with \\"quotes\\"\\nand a newline'
    assert lines[1] == "# TYPE x_total counter"
    assert lines[2] == 'x_total{feed="https://a.example/?q=\\"1\\"\\\\"} 3'
    with pytest.raises(ValueError):
        c.inc(-1, feed="a")
    with pytest.raises(ValueError):
        c.inc(platform="telegram")


def test_unlabelled_metrics_render_zero_and_gauges_go_both_ways() -> None:
    assert Counter("c_total", "c").render().splitlines()[-1] == "c_total 0"
    g = Gauge("g", "g")
    g.set(5)
    g.inc(-2)
    assert g.render().splitlines()[-1] == "g 3"
    g.clear()
    assert g.render().splitlines()[-1] == "g 0"


def test_histogram_buckets_are_cumulative() -> None:
    h = Histogram("lat_seconds", "latency", ("platform",), buckets=(1.0, 5.0))
    for value in (0.5, 1.0, 3.0, 60.0):
        h.observe(value, platform="signal")
    registry = Registry()
    registry.add(h)
    text = registry.render()
    assert text.endswith("\n")
    assert text.splitlines()[2:] == [
        'lat_seconds_bucket{platform="signal",le="1"} 2',
        'lat_seconds_bucket{platform="signal",le="5"} 3',
        'lat_seconds_bucket{platform="signal",le="+Inf"} 4',
        'lat_seconds_sum{platform="signal"} 64.5',
        'lat_seconds_count{platform="signal"} 4',
    ]
    assert h.count(platform="signal") == 4 and h.count(platform="telegram") == 0
