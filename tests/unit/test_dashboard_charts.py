"""The KPI page's charts: buckets over the period (db.kpi_series) and the chart data and
CSV made from them (console.dashboard)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from console import i18n
from console.dashboard import chart_csv, charts
from db.kpi_series import bucket_unit, kpi_series
from db.kpis import PlainFormats, compute
from db.models import Call, QueueLeg, Survey, WrapUp

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("days", "unit"), [(1, "day"), (62, "day"), (63, "week"),
                                            (366, "week"), (367, "month")])
def test_long_periods_are_cut_into_weeks_then_months(days: int, unit: str) -> None:
    first = date(2026, 1, 1)
    assert bucket_unit(first, first + timedelta(days=days - 1)) == unit


def test_every_bucket_is_there_and_weeks_start_on_monday(engine: Engine) -> None:
    with Session(engine) as session:
        weekly = kpi_series(session, date(2026, 9, 2), date(2026, 11, 30))  # a Wednesday
        monthly = kpi_series(session, date(2025, 11, 15), date(2026, 12, 31))
    assert weekly.unit == "week" and weekly.buckets[0].start == date(2026, 8, 31)
    assert all(b.start.weekday() == 0 for b in weekly.buckets)
    assert weekly.buckets[-1].start == date(2026, 11, 30) and len(weekly.buckets) == 14
    assert [b.start for b in monthly.buckets][:3] == [date(2025, 11, 1), date(2025, 12, 1),
                                                      date(2026, 1, 1)]
    assert len(monthly.buckets) == 14 and all(b.calls == 0 for b in monthly.buckets)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_figures_land_in_the_line_s_local_day(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        # 17:30 UTC on the 22nd is 01:30 on the 23rd in Shanghai.
        session.add_all([Call(call_id="a", started_at=at(22, 17)),
                         Call(call_id="b", started_at=at(23, 3)),
                         Call(call_id="c", started_at=at(24, 3))])
        session.flush()
        session.add_all([
            QueueLeg(call_id="a", queue="cards", joined_at=at(22, 17), result="answered",
                     wait_s=5),
            QueueLeg(call_id="b", queue="cards", joined_at=at(23, 3), result="answered",
                     wait_s=60),
            QueueLeg(call_id="c", queue="cards", joined_at=at(24, 3), result="abandoned",
                     wait_s=30),
            Survey(event_id="s1", call_id="a", at=at(22, 18), score=5),
            Survey(event_id="s2", call_id="b", at=at(23, 4), score=2),
            WrapUp(call_id="a", agent="x", at=at(22, 18), disposition="resolved"),
            WrapUp(call_id="b", agent="x", at=at(23, 4), disposition="resolved"),
            WrapUp(call_id="c", agent="x", at=at(24, 4), disposition="=cmd"),
        ])
    with Session(engine) as session:
        series = kpi_series(session, date(2026, 11, 22), date(2026, 11, 24))
    day22, day23, day24 = series.buckets
    assert (day22.calls, day23.calls, day24.calls) == (0, 2, 1)
    assert day23.service_level == 0.5 and day23.satisfaction == 0.5
    assert day24.abandonment == 1.0 and day24.satisfaction is None
    with i18n.speaking("en"):
        drawn = {c["id"]: c for c in charts(series, {"resolved": "已解决 Resolved"})}
    assert drawn["service"]["series"][0]["name"] == "service level (20 s)"
    assert drawn["service"]["series"][0]["data"] == [None, 50.0, 0.0]
    assert drawn["satisfaction"]["goal"] == 90.0
    assert drawn["satisfaction"]["series"][0]["data"] == [None, 50.0, None]
    assert drawn["dispositions"]["categories"] == ["已解决 Resolved", "=cmd"]
    assert not any(c["empty"] for c in drawn.values())
    rows = list(csv.reader(io.StringIO(chart_csv(drawn["dispositions"]))))
    assert rows == [["disposition", "wrap-ups"], ["已解决 Resolved", "2"], ["'=cmd", "1"]]


def test_an_empty_period_is_empty_in_every_chart(engine: Engine) -> None:
    with Session(engine) as session:
        series = kpi_series(session, date(2026, 1, 1), date(2026, 1, 7))
    with i18n.speaking("zh_CN"):
        drawn = charts(series, {})
    assert all(chart["empty"] for chart in drawn)
    assert drawn[0]["axis"] == "日期" and drawn[0]["series"][0]["data"] == [0] * 7


def test_the_kpi_table_names_dispositions_by_label_most_frequent_first(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        codes = ("resolved", "card-frozen", "card-frozen", "=cmd")
        session.add_all([Call(call_id=f"c{n}", started_at=at(23, 3)) for n in range(4)])
        session.flush()
        session.add_all([WrapUp(call_id=f"c{n}", agent="x", at=at(23, 4), disposition=code)
                         for n, code in enumerate(codes)])
    with Session(engine) as session:
        kpis = compute(session, at(23, 0), at(24, 0), at(24, 0))
    with i18n.speaking("zh_CN"):
        rows = dict(kpis.rows(i18n.PageFormats({"resolved": "已解决 Resolved",
                                                "card-frozen": "已冻结"})))
    assert rows["按处理结果统计的小结"] == "已冻结: 2, =cmd: 1, 已解决 Resolved: 1"
    plain = dict(kpis.rows(PlainFormats()))
    assert plain["wrap-ups by disposition"] == "card-frozen: 2, =cmd: 1, resolved: 1"
