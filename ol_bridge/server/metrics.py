"""Event counters of the receiver and their Prometheus text rendering.

Counters only grow; ``queued`` is a gauge (events in the outbox for a destination, parked
ones included). Counters are in-process: with several workers, scrape each one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import attrs

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: metric name -> help text, in the order they are rendered
_COUNTERS: dict[str, str] = {
    "received": "OpenLineage events received in well-formed, valid requests or messages.",
    "accepted": "Events committed to the outbox for every destination (acknowledged).",
    "duplicates": "Events accepted again while their first copy was known; not queued twice.",
    "delivered": "Events delivered, per destination.",
    "parked": "Events a destination refused for good, kept as rejected in the outbox.",
    "rejected": "Requests or messages refused (4xx), by reason.",
    "unavailable": "Requests answered 503 (with Retry-After), by reason.",
}


@attrs.frozen
class Sample:
    """One labelled value of a metric, ready to render."""

    name: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()


class Metrics:
    """Thread-safe counters; :meth:`render` gives the Prometheus exposition text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._queued: Callable[[], Mapping[str, int]] = dict

    def set_queued(self, queued: Callable[[], Mapping[str, int]]) -> None:
        """Where the ``queued`` gauge is read from (destination -> waiting events)."""
        self._queued = queued

    def add(self, name: str, amount: int = 1, **labels: str) -> None:
        if name not in _COUNTERS:
            raise KeyError(f"unknown metric {name!r}")
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counts[key] += amount

    def value(self, name: str, **labels: str) -> int:
        """The sum over every label set that includes ``labels`` (for tests and logs)."""
        with self._lock:
            return sum(
                count
                for (metric, metric_labels), count in self._counts.items()
                if metric == name and set(labels.items()) <= set(metric_labels)
            )

    def samples(self) -> list[Sample]:
        with self._lock:
            counted = [
                Sample(name, float(count), labels)
                for (name, labels), count in sorted(self._counts.items())
            ]
        queued = [
            Sample("queued", float(count), (("destination", destination),))
            for destination, count in sorted(self._queued().items())
        ]
        return counted + queued

    def render(self) -> str:
        return render_prometheus(self.samples())


def render_prometheus(samples: Iterable[Sample]) -> str:
    """Prometheus text format 0.0.4 for ``samples`` (pure)."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    lines: list[str] = []
    for name, help_text in [*_COUNTERS.items(), ("queued", "Events waiting for a destination.")]:
        metric = f"ol_bridge_events_{name}" + ("" if name == "queued" else "_total")
        lines.append(f"# HELP {metric} {help_text}")
        lines.append(f"# TYPE {metric} {'gauge' if name == 'queued' else 'counter'}")
        for sample in by_name.get(name, [Sample(name, 0.0)]):
            lines.append(f"{metric}{_labels(sample.labels)} {sample.value:.17g}")
    return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
