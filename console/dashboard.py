"""The KPI page's charts as data: what each chart shows (db.kpi_series), in the page's
language, for static/dashboard.js to draw with ECharts and for the CSV beside each chart.

A chart with nothing to show is marked empty: the page says "no data yet" instead of drawing
axes around nothing. Percentages are 0-100 with one decimal; counts are integers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.i18n import N_, gettext
from db.kpi_series import Bucket, KpiSeries

UNIT_WORDS = {"day": N_("day"), "week": N_("week (from Monday)"), "month": N_("month")}


@dataclass(frozen=True)
class Line:
    name: str  # message id, may use {seconds}
    value: Callable[[Bucket], float | int | None]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str  # message id
    unit: str  # count | percent
    kind: str  # bar | line
    lines: tuple[Line, ...] = ()


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


CHARTS = (
    Chart("calls", N_("Calls, answered and abandoned"), "count", "bar", (
        Line(N_("calls"), lambda b: b.calls),
        Line(N_("answered"), lambda b: b.answered),
        Line(N_("abandoned"), lambda b: b.abandoned))),
    Chart("service", N_("Service level and abandonment"), "percent", "line", (
        Line(N_("service level ({seconds} s)"), lambda b: _percent(b.service_level)),
        Line(N_("abandonment rate"), lambda b: _percent(b.abandonment)))),
    Chart("satisfaction", N_("Satisfaction against the goal"), "percent", "bar", (
        Line(N_("satisfaction"), lambda b: _percent(b.satisfaction)),)),
    Chart("dispositions", N_("wrap-ups by disposition"), "count", "bar"),
)
CHART_IDS = tuple(chart.id for chart in CHARTS)


def charts(series: KpiSeries, disposition_labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every chart as {id, title, unit, kind, axis, categories, series, goal, empty}."""
    words = {"seconds": series.settings.service_level_s}
    drawn = []
    for chart in CHARTS:
        if chart.id == "dispositions":
            codes = sorted(series.dispositions, key=lambda c: (-series.dispositions[c], c))
            categories = [disposition_labels.get(code, code) for code in codes]
            lines = [{"name": gettext(N_("wrap-ups")),
                      "data": [series.dispositions[code] for code in codes]}]
            axis = gettext(N_("disposition"))
        else:
            categories = [_label(bucket, series.unit) for bucket in series.buckets]
            lines = [{"name": gettext(line.name).format(**words),
                      "data": [line.value(bucket) for bucket in series.buckets]}
                     for line in chart.lines]
            axis = gettext(UNIT_WORDS[series.unit])
        empty = not any(value for line in lines for value in line["data"])
        goal = (_percent(series.settings.satisfaction_goal)
                if chart.id == "satisfaction" else None)
        drawn.append({"id": chart.id, "title": gettext(chart.title), "unit": chart.unit,
                      "kind": chart.kind, "axis": axis, "categories": categories,
                      "series": lines, "goal": goal, "empty": empty})
    return drawn


def _label(bucket: Bucket, unit: str) -> str:
    return f"{bucket.start:%Y-%m}" if unit == "month" else bucket.start.isoformat()


def chart_csv(chart: dict[str, Any]) -> str:
    """One chart's figures: a row per category, a column per series."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(chart["axis"])] + [_cell(s["name"]) for s in chart["series"]])
    for row, category in enumerate(chart["categories"]):
        writer.writerow([_cell(category)] + ["" if s["data"][row] is None else s["data"][row]
                                            for s in chart["series"]])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
