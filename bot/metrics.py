"""A small in-process metrics registry rendered in the Prometheus text format (version 0.0.4).

Counters, gauges and histograms with labels, enough for /metrics; no dependency. Code anywhere
in the process records into the module-level metrics below, e.g.
``metrics.FEED_ERRORS.inc(feed="https://…")`` from the news job when a fetch fails.
Gauges whose value lives in the database (outbox depth) are filled by collectors that run at
scrape time (see ``bot.http_metrics``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

LabelValues = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Iterable[str], values: Iterable[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.help = help
        self.label_names = labels
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {_escape(self.help)}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError

    def render(self) -> str:
        return "\n".join([*self.header(), *self.samples()])


class Counter(Metric):
    kind = "counter"

    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()) -> None:
        super().__init__(name, help, labels)
        self.values: dict[LabelValues, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self.values[key] = self.values.get(key, 0.0) + amount

    def clear(self) -> None:
        """Forget every label set (for gauges refilled from the database at each scrape)."""
        with self._lock:
            self.values.clear()

    def value(self, **labels: str) -> float:
        return self.values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self.values.items())
        if not items and not self.label_names:
            items = [((), 0.0)]
        return [f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items]


class Gauge(Counter):
    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self.values[key] = float(value)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self.values[key] = self.values.get(key, 0.0) + amount


DEFAULT_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class Histogram(Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help, labels)
        self.buckets = tuple(sorted(buckets))
        self.counts: dict[LabelValues, list[int]] = {}
        self.sums: dict[LabelValues, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            counts[-1] += 1  # +Inf
            self.sums[key] = self.sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        counts = self.counts.get(self._key(labels))
        return counts[-1] if counts else 0

    def samples(self) -> list[str]:
        lines: list[str] = []
        with self._lock:
            items = sorted(self.counts.items())
            sums = dict(self.sums)
        for key, counts in items:
            for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_labels(self.label_names, key, le)} {n}")
            lab = _labels(self.label_names, key)
            lines.append(f"{self.name}_sum{lab} {_number(sums[key])}")
            lines.append(f"{self.name}_count{lab} {counts[-1]}")
        return lines


class Registry:
    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}
        self.collectors: list[Callable[[], None]] = []

    def add(self, metric: Metric) -> Metric:
        self.metrics[metric.name] = metric
        return metric

    def collect(self) -> None:
        """Run the scrape-time collectors (they fill gauges from the database)."""
        for collector in list(self.collectors):
            collector()

    def render(self) -> str:
        return "\n".join(m.render() for m in self.metrics.values()) + "\n"


REGISTRY = Registry()


def _counter(name: str, help: str, labels: tuple[str, ...] = ()) -> Counter:
    metric = Counter(name, help, labels)
    REGISTRY.add(metric)
    return metric


def _gauge(name: str, help: str, labels: tuple[str, ...] = ()) -> Gauge:
    metric = Gauge(name, help, labels)
    REGISTRY.add(metric)
    return metric


MESSAGES_IN = _counter(
    "netzbot_messages_in_total", "Messages received from a messenger", ("platform",)
)
MESSAGES_OUT = _counter(
    "netzbot_messages_out_total",
    "Messages sent: path=reply (direct answers) or path=outbox (reminders, news, …)",
    ("platform", "path"),
)
OUTBOX_DEPTH = _gauge("netzbot_outbox_depth", "Outbox messages waiting to be sent")
OUTBOX_FAILED = _gauge("netzbot_outbox_failed", "Outbox messages given up on (status failed)")
DELIVERY_LATENCY = Histogram(
    "netzbot_delivery_latency_seconds",
    "Time from enqueueing an outbox message to its delivery",
    ("platform",),
)
REGISTRY.add(DELIVERY_LATENCY)
FEED_ERRORS = _counter("netzbot_feed_errors_total", "Failed feed fetches or parses", ("feed",))
FEED_FAILURES = _gauge(
    "netzbot_feed_failures", "Consecutive failed polls of a feed (0: last poll worked)", ("feed",)
)
FEEDS_PAUSED = _gauge("netzbot_feeds_paused", "Feeds paused after too many failures")
UP_SINCE = _gauge("netzbot_start_time_seconds", "Unix time the process started")
UP_SINCE.set(datetime.now(UTC).timestamp())

# Last successful receive per platform (for /healthz); written by the app when a message arrives.
LAST_RECEIVE: dict[str, datetime] = {}


def message_received(platform: str, when: datetime) -> None:
    MESSAGES_IN.inc(platform=platform)
    LAST_RECEIVE[platform] = when


def reply_sent(platform: str) -> None:
    MESSAGES_OUT.inc(platform=platform, path="reply")
