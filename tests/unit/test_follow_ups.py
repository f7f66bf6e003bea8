"""Callers' messages left when no agent took the call (or after hours) become follow-ups due
within 24 hours: from the IVR's event to the record, the CLI and the KPI report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db.database import sessions
from db.follow_ups import FollowUpError, complete, open_follow_up
from db.kpis import compute
from db.models import Call, FollowUp
from db.records import apply_event
from hotline.cli import app
from ivr.menu_loader import MenuSet
from ivr.transcripts import load_transcript, run_transcript

ROOT = Path(__file__).resolve().parents[2]
LEFT_AT = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)


def message_events(menus: MenuSet) -> list[tuple[str, dict[str, object]]]:
    """What the IVR emits for a Cantonese loans caller no agent took."""
    result = run_transcript(menus, load_transcript(
        ROOT / "menus" / "transcripts" / "no-agent-message.yaml"))
    assert result.failures == []
    return result.caller.events


def test_the_message_event_says_where_the_caller_waited_and_whom_to_answer(
        menus: MenuSet) -> None:
    [(_, data)] = [(k, d) for k, d in message_events(menus) if k == "message-recorded"]
    assert (data["purpose"], data["queue"], data["language"], data["ended_by"]) == (
        "voicemail", "loans", "yue", "silence")
    assert data["reply_to"] == "13900000000"  # the caller's number, as the line dials it


def test_a_message_becomes_one_follow_up_due_in_24_hours(menus: MenuSet,
                                                        engine: Engine) -> None:
    [(kind, data)] = [(k, d) for k, d in message_events(menus) if k == "message-recorded"]
    record = {"call_id": "c1", "kind": kind, "at": LEFT_AT.isoformat(), "data": data}
    with sessions(engine)() as session, session.begin():
        assert apply_event(session, record, "e1")
        assert not apply_event(session, record, "e1")  # replayed: nothing more
        # A complaint's description has its ticket's clocks, not a follow-up.
        apply_event(session, {**record, "data": {**data, "purpose": "complaint"}}, "e2")
    with sessions(engine)() as session:
        [follow_up] = session.scalars(select(FollowUp)).all()
        assert (follow_up.status, follow_up.queue, follow_up.language) == ("open", "loans",
                                                                          "yue")
        assert follow_up.due_at == LEFT_AT + timedelta(hours=24)
        assert follow_up.reply_to == "13900000000"


def test_a_message_left_by_hanging_up_takes_the_calls_queue(engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        apply_event(session, {"call_id": "c2", "kind": "ivr-finished", "at": LEFT_AT.isoformat(),
                              "data": {"outcome": "queue", "queue": "cards",
                                       "language": "cmn", "intent": "cards-general"}}, "e1")
        apply_event(session, {"call_id": "c2", "kind": "message-recorded",
                              "at": LEFT_AT.isoformat(),
                              "data": {"purpose": "voicemail", "reference": "m.wav",
                                       "duration_ms": 4000, "ended_by": "hang-up"}}, "e2")
    with sessions(engine)() as session:
        follow_up = session.scalar(select(FollowUp))
        assert follow_up is not None
        assert (follow_up.queue, follow_up.language, follow_up.intent,
                follow_up.reply_to) == ("cards", "cmn", "cards-general", None)


def _follow_up(session: Session, n: int, opened: datetime) -> FollowUp:
    return open_follow_up(session, event_id=f"e{n}", call_id=f"c{n}",
                          opened_at=opened, message_ref=f"m{n}.wav", duration_ms=5000,
                          queue="cards", language="cmn", intent=None, customer_id=None,
                          reply_to="13900000001")


def test_the_kpi_counts_messages_answered_within_their_deadline(engine: Engine) -> None:
    now = LEFT_AT + timedelta(days=3)
    with sessions(engine)() as session, session.begin():
        for n in range(1, 5):
            session.add(Call(call_id=f"c{n}", started_at=LEFT_AT))
        session.flush()
        complete(_follow_up(session, 1, LEFT_AT), LEFT_AT + timedelta(hours=3),
                 by="agent-a", outcome="called back")
        complete(_follow_up(session, 2, LEFT_AT), LEFT_AT + timedelta(hours=30),
                 by="agent-a", outcome="called back")
        _follow_up(session, 3, LEFT_AT)  # still open, its deadline passed: late
        _follow_up(session, 4, now - timedelta(hours=2))  # open, not due yet: not counted
    with sessions(engine)() as session:
        kpis = compute(session, LEFT_AT - timedelta(days=1), now + timedelta(days=1), now)
    assert (kpis.follow_ups_in_time, kpis.follow_ups_counted) == (1, 3)
    assert ("messages answered within deadline", "33.3 % (1/3)") in kpis.rows()


def test_done_needs_who_and_what_and_happens_once(engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        session.add(Call(call_id="c1", started_at=LEFT_AT))
        session.flush()
        follow_up = _follow_up(session, 1, LEFT_AT)
        with pytest.raises(FollowUpError, match="who answered"):
            complete(follow_up, LEFT_AT, by=" ", outcome="called back")
        complete(follow_up, LEFT_AT, by="agent-a", outcome="called back")
        with pytest.raises(FollowUpError, match="done already"):
            complete(follow_up, LEFT_AT, by="agent-b", outcome="again")


def test_the_cli_lists_masked_numbers_and_records_what_was_done(
        tmp_path: Path, records_url: str, engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        session.add(Call(call_id="c1", started_at=LEFT_AT))
        session.flush()
        _follow_up(session, 1, LEFT_AT)
    env = {"HOTLINE_DATABASE_URL": records_url, "HOTLINE_RUNTIME_DIR": str(tmp_path),
           "COLUMNS": "200"}
    runner = CliRunner()
    listed = runner.invoke(app, ["followups"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "1 message(s)" in listed.output and "late" in listed.output
    assert "13900000001" not in listed.output and "0001" in listed.output
    shown = runner.invoke(app, ["followups", "show", "1"], env=env)
    assert "answer on: 13900000001" in shown.output  # the one who answers needs it
    done = runner.invoke(app, ["followups", "done", "1", "--by", "agent-a", "--outcome",
                               "called back, card replaced"], env=env)
    assert done.exit_code == 0 and "done (late)" in done.output, done.output
    again = runner.invoke(app, ["followups", "done", "1", "--by", "agent-a", "--outcome",
                                "x"], env=env)
    assert again.exit_code == 1 and "done already" in again.output
    assert "0 message(s)" in runner.invoke(app, ["followups"], env=env).output
