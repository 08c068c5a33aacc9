"""Reading Prometheus text exposition in tests: one sample's value, and every metric family named."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

_TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of sample ``name`` with exactly these ``labels`` (subset match), or ``None``."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return None


def total(text: str, name: str, **labels: str) -> float:
    """The sum of every sample ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(
        float(found.value)
        for family in text_string_to_metric_families(text)
        for found in family.samples
        if found.name == name and all(found.labels.get(k) == v for k, v in labels.items())
    )


def series_names(text: str) -> set[str]:
    """Every series name a query may use: families from ``# TYPE`` lines (present even before a
    labelled metric has its first sample), with ``_total`` for counters and the histogram suffixes."""
    names: set[str] = set()
    for family, kind in _TYPE_LINE.findall(text):
        names.add(family)
        if kind == "counter":
            names.add(family if family.endswith("_total") else f"{family}_total")
        elif kind == "histogram":
            names |= {f"{family}_bucket", f"{family}_count", f"{family}_sum"}
    return names
