"""The demo history (db.sample_history): plausible figures, fictional callers only, the same
history from the same seed, and `hotline db sample-history` refusing a real database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db import migrate
from db.database import make_engine
from db.kpis import compute
from db.models import Call, Complaint, QueueLeg, Recording
from db.sample_history import seed_history
from hotline.cli import app as cli

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai


def test_a_month_reads_like_a_hotline_near_its_goals(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        made = seed_history(session, now=NOW, recordings_dir=tmp_path)
    with Session(engine) as session:
        kpis = compute(session, datetime(2026, 11, 1, tzinfo=UTC), NOW, NOW)
        callers = session.scalars(select(Call.caller_masked)).all()
        last_start = session.scalar(select(func.max(Call.started_at)))
        legs = session.scalar(select(func.count()).select_from(QueueLeg))
        pending = session.scalars(select(Recording.path)).all()
        tickets = session.scalars(select(Complaint.ticket)).all()
    assert kpis.calls == made.calls > 500
    assert legs == made.answered + made.abandoned
    assert 0.7 < (kpis.service_level or 0) < 0.95
    assert 0.01 < (kpis.abandonment or 0) < 0.1
    assert 0.8 < (kpis.satisfaction.rate or 0) < 0.97
    assert all(re.fullmatch(r"\*{7}\d{4}", c or "") for c in callers)
    assert last_start is not None and last_start < NOW
    assert sorted(map(str, made.recordings)) == sorted(pending) and pending
    assert all(Path(p).parent == tmp_path for p in pending)
    assert sorted(tickets) == sorted(made.complaints) and len(set(tickets)) == len(tickets)


def test_the_same_seed_makes_the_same_history(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        first = seed_history(session, now=NOW, days=3)
    other = tmp_path / "other.db"
    migrate.upgrade(f"sqlite:///{other}")
    again = make_engine(f"sqlite:///{other}")
    with Session(again) as session, session.begin():
        second = seed_history(session, now=NOW, days=3)
    again.dispose()
    assert first == second


def test_the_command_refuses_a_database_that_holds_calls(
        engine: Engine, records_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", records_url)
    runner = CliRunner()
    added = runner.invoke(cli, ["db", "sample-history", "--days", "2"])
    assert added.exit_code == 0, added.output
    with Session(engine) as session:
        calls = session.scalar(select(func.count()).select_from(Call))
    assert calls and "sample calls over 2 days" in added.output
    refused = runner.invoke(cli, ["db", "sample-history", "--days", "2"])
    assert refused.exit_code == 1 and "already holds calls" in refused.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Call)) == calls
