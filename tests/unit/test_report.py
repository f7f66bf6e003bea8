"""`hotline report` against a hand-made fixture (kpi_fixture.yaml): every figure below was
worked out by hand from the fixture, not by the code under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine
from typer.testing import CliRunner

from db.complaints import open_complaint
from db.database import sessions
from db.kpis import compute
from db.models import Call, Callback, QueueLeg, Survey
from hotline.cli import app
from services.charts import draw_charts

FIXTURE = Path(__file__).with_name("kpi_fixture.yaml")
DAY_START = datetime.fromisoformat("2026-11-23T00:00:00+08:00")
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def database(records_url: str, engine: Engine) -> tuple[str, Engine]:
    fixture = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    with sessions(engine)() as session, session.begin():
        for call in fixture["calls"]:
            session.add(Call(call_id=call["id"], started_at=at(call["at"]),
                             ended_at=at(call["at"]) + timedelta(minutes=5),
                             caller_key=call.get("caller"), intent=call.get("intent"),
                             outcome=call["outcome"]))
            session.flush()
            leg = call.get("leg")
            if leg:
                session.add(QueueLeg(call_id=call["id"], queue=leg["queue"],
                                     joined_at=at(call["at"]) + timedelta(seconds=40),
                                     result=leg["result"], wait_s=leg["wait_s"],
                                     talk_s=leg.get("talk_s"), agent=leg.get("agent"),
                                     abandon_position=leg.get("position")))
        for n, callback in enumerate(fixture["callbacks"]):
            session.add(Callback(event_id=f"cb{n}", call_id=callback["call"],
                                 booked_at=at(callback["at"]), number="13800000001",
                                 queue="cards", language="cmn", not_before=at(callback["at"]),
                                 status=callback["status"]))
        for complaint in fixture["complaints"]:
            filed = open_complaint(session, ticket=complaint["ticket"], call_id=complaint["call"],
                                   category="complaint-fees", opened_at=at(complaint["at"]))
            if "replied" in complaint:
                filed.replied_at = at(complaint["replied"])
        for n, survey in enumerate(fixture["surveys"]):
            session.add(Survey(event_id=f"s{n}", call_id=survey["call"], at=at(survey["at"]),
                               score=survey["score"], queue=survey["queue"],
                               agent=survey["agent"]))
    return records_url, engine


def test_kpis_match_the_hand_made_fixture(database: tuple[str, Engine]) -> None:
    _url, engine = database
    with sessions(engine)() as session:
        kpis = compute(session, DAY_START, DAY_START + timedelta(days=1), NOW)
    assert kpis.calls == 8  # c9 is the next day
    assert kpis.containment == pytest.approx(2 / 8)  # c1, c6
    assert (kpis.answered, kpis.abandoned, kpis.short_abandons) == (3, 2, 1)
    assert kpis.service_level == pytest.approx(2 / 5)  # c2 (10 s), c8 (20 s)
    assert kpis.service_level_without_short_abandons == pytest.approx(2 / 4)
    assert kpis.average_speed_of_answer_s == pytest.approx(20.0)
    assert kpis.abandonment == pytest.approx(2 / 5)
    assert dict(kpis.abandon_positions) == {1: 1, 3: 1}
    assert kpis.average_handle_time_s == pytest.approx(120.0)
    # c2 is followed by c5 (same caller, same dispute), c3 by c9: 5 of 7 resolved.
    assert (kpis.fcr_resolved, kpis.fcr_eligible) == (5, 7)
    assert (kpis.callbacks_kept, kpis.callbacks_booked) == (1, 2)
    # T1 in time, T2 late, T3 never replied and past due.
    assert (kpis.complaints_in_time, kpis.complaints_counted) == (1, 3)
    assert kpis.satisfaction.rate == pytest.approx(3 / 4)
    assert kpis.satisfaction_by_agent["agent-a"].rate == pytest.approx(1 / 2)
    assert kpis.satisfaction_by_agent["agent-b"].rate == pytest.approx(1.0)
    assert kpis.satisfaction_by_queue["cards-cmn"].rate == pytest.approx(2 / 3)
    assert list(kpis.satisfaction_by_day) == ["2026-11-23"]


def test_the_report_command_prints_writes_csv_and_draws_charts(
        database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = database
    result = CliRunner().invoke(app, ["report", "--from", "2026-11-23", "--csv",
                                      str(tmp_path / "kpis.csv"), "--charts",
                                      str(tmp_path / "charts")],
                                env={"HOTLINE_DATABASE_URL": url, "COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "40.0 %" in result.output and "120.0 s" in result.output
    rows = (tmp_path / "kpis.csv").read_text(encoding="utf-8").splitlines()
    assert "service level (20 s),40.0 %" in rows
    assert "satisfaction agent agent-a,50.0 % (2 surveys)" in rows
    charts = sorted(p.name for p in (tmp_path / "charts").glob("*.png"))
    assert charts == ["abandon-positions.png", "queue-results.png", "satisfaction-by-day.png"]
    assert all((tmp_path / "charts" / name).read_bytes()[:4] == b"\x89PNG" for name in charts)


def test_charts_of_an_empty_period_are_still_drawn(tmp_path: Path,
                                                   database: tuple[str, Engine]) -> None:
    _url, engine = database
    with sessions(engine)() as session:
        empty = compute(session, DAY_START - timedelta(days=7), DAY_START - timedelta(days=6),
                        NOW)
    assert empty.calls == 0 and empty.service_level is None
    assert len(draw_charts(empty, tmp_path / "empty")) == 3
