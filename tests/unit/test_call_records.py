"""Spooled events become call records (SQLite file per test): each event once, bad lines set
aside, half-written lines left for later, queue legs from Asterisk's queue events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select

import db.records
import db.replay
from bench.replay import EVENTS_PER_CALL, write_calls
from db.database import make_engine, sessions
from db.models import (
    AgentOffer,
    Call,
    Callback,
    CallEvent,
    QueueLeg,
    SpeechResult,
    SpoolProgress,
    Survey,
)
from db.privacy import mask_number, number_key
from db.replay import REJECTED_FILE, SpoolReplayer
from db.spool import EventSpool
from ivr.menu_loader import MenuSet
from ivr.transcripts import load_transcript, run_transcript
from pbx.call_events import spool_event

ROOT = Path(__file__).resolve().parents[2]


def write(spool_dir: Path, *records: dict[str, object], raw: str = "") -> None:
    spool_dir.mkdir(exist_ok=True)
    with open(spool_dir / "events-20261123.jsonl", "a", encoding="utf-8") as spool:
        for record in records:
            spool.write(json.dumps(record, ensure_ascii=False) + "\n")
        spool.write(raw)


def event(n: int, kind: str, at: str, **data: object) -> dict[str, object]:
    return {"id": f"e{n}", "at": at, "call_id": "1732350000.7", "kind": kind, "data": data}


A_CALL = [
    event(1, "call-started", "2026-11-23T02:00:00.000+00:00", linked_id="1732350000.6",
          caller_masked="*******0001", caller_key="k1"),
    event(2, "speech-result", "2026-11-23T02:00:09.000+00:00", node="main.menu",
          language="yue", text="信用卡", confidence=0.91, accepted=True,
          interrupted_prompt=True),
    event(3, "ivr-finished", "2026-11-23T02:00:20.000+00:00", menu_version="v1",
          language="yue", path=["welcome.start", "main.menu", "cards.general"],
          outcome="queue", queue="cards", intent="cards-general", customer_id="C1001",
          verified="pin", verify_failures=1),
    event(4, "queue-joined", "2026-11-23T02:00:21.000+00:00", queue="cards-yue",
          position="2"),
    event(5, "queue-left", "2026-11-23T02:00:51.000+00:00", queue="cards-yue", position="1"),
    event(6, "queue-answered", "2026-11-23T02:00:51.000+00:00", queue="cards-yue",
          agent="cards-yue", hold_s="30"),
    event(7, "agent-completed", "2026-11-23T02:03:51.000+00:00", queue="cards-yue",
          agent="cards-yue", talk_s="180", hold_s="30"),
    event(8, "call-ended", "2026-11-23T02:03:52.000+00:00", outcome="queue",
          reason="routed"),
]


def test_a_call_becomes_one_complete_record_and_replaying_again_adds_nothing(
        tmp_path: Path, engine: Engine) -> None:
    write(tmp_path / "spool", *A_CALL)
    replayer = SpoolReplayer(tmp_path / "spool", engine)
    first = replayer.replay()
    assert (first.applied, first.rejected, first.error) == (8, 0, None)
    with sessions(engine)() as session:
        call = session.scalar(select(Call))
        assert call is not None
        assert (call.caller_masked, call.language, call.outcome, call.intent, call.queue,
                call.customer_id) == ("*******0001", "yue", "queue", "cards-general", "cards",
                                      "C1001")
        assert call.path == "welcome.start>main.menu>cards.general"
        assert (call.verified, call.verify_failures) == ("pin", 1)  # how the caller proved it
        assert call.started_at is not None and call.ended_at is not None
        leg = session.scalar(select(QueueLeg))
        assert leg is not None
        assert (leg.queue, leg.result, leg.agent, leg.wait_s, leg.talk_s, leg.position) == \
            ("cards-yue", "answered", "cards-yue", 30, 180, 2)
        speech = session.scalar(select(SpeechResult))
        assert speech is not None and speech.text == "信用卡" and speech.interrupted_prompt
    # The progress is committed with the events: a second replay finds nothing new, and
    # even a lost progress row cannot apply an event twice.
    assert replayer.replay().applied == 0
    with sessions(engine)() as session, session.begin():
        session.execute(delete(SpoolProgress))
    again = replayer.replay()
    assert (again.applied, again.duplicates) == (0, 8)
    with sessions(engine)() as session:
        assert session.scalar(select(func.count()).select_from(CallEvent)) == 8


def test_a_half_written_line_waits_and_a_broken_one_is_set_aside(tmp_path: Path,
                                                                  engine: Engine) -> None:
    spool = tmp_path / "spool"
    write(spool, A_CALL[0], raw='{"id": "broken", "at": "2026-11-23T02:00:01+00:00"}\n'
                                'not json at all\n{"id": "e9", "at": "2026-11-23T02:0')
    replayer = SpoolReplayer(spool, engine)
    report = replayer.replay()
    assert (report.applied, report.rejected) == (1, 2)
    rejected = [json.loads(line) for line in (spool / REJECTED_FILE).read_text().splitlines()]
    assert [r["line"].strip()[:16] for r in rejected] == ['{"id": "broken",', "not json at all"]
    # The writer finishes its line: now it is applied.
    write(spool, raw='0:02+00:00", "call_id": "1732350000.7", "kind": "note", "data": {}}\n')
    assert replayer.replay().applied == 1


def test_callbacks_are_stored_with_their_earliest_time(tmp_path: Path, engine: Engine) -> None:
    spool = EventSpool(tmp_path / "spool")
    spool.emit("1732350000.9", "callback-requested", {
        "queue": "cards", "number": "13800000001", "language": "cmn", "intent": "cards",
        "node": "cards.callback", "not_before": "2026-11-24T08:00+08:00"})
    assert SpoolReplayer(tmp_path / "spool", engine).replay().applied == 1
    with sessions(engine)() as session:
        callback = session.scalar(select(Callback))
        assert callback is not None and callback.status == "booked"
        assert callback.not_before.replace(tzinfo=None).isoformat() == "2026-11-24T00:00:00"


def test_a_database_that_cannot_be_reached_is_reported_not_raised(tmp_path: Path) -> None:
    write(tmp_path / "spool", *A_CALL)
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    report = SpoolReplayer(tmp_path / "spool", engine).replay()
    assert report.error is not None and report.applied == 0


def test_caller_numbers_are_masked_and_keyed() -> None:
    assert mask_number("13800000001") == "*******0001"
    assert mask_number("+86 138-0000-0001") == "*********0001"
    key = bytes(32)
    assert number_key("13800000001", key) == number_key("138 0000 0001", key)
    assert number_key("13800000001", key) != number_key("13800000001", bytes([1]) * 32)
    assert number_key("13800000001", key) != number_key("13800000002", key)


def test_asterisk_events_map_to_spool_events_without_the_number() -> None:
    secret = bytes(32)
    started = spool_event({"Event": "UserEvent", "UserEvent": "HotlineCallStarted",
                           "Uniqueid": "1.1", "Linkedid": "1.0", "Caller": "13800000001"},
                          secret)
    assert started is not None
    call_id, kind, data = started
    assert (call_id, kind, data["caller_masked"]) == ("1.1", "call-started", "*******0001")
    assert "13800000001" not in json.dumps(data)
    abandoned = spool_event({"Event": "QueueCallerAbandon", "Uniqueid": "1.1",
                             "Queue": "cards-yue", "Position": "3", "OriginalPosition": "5",
                             "HoldTime": "40"}, secret)
    assert abandoned == ("1.1", "queue-abandoned", {"queue": "cards-yue", "position": "3",
                                                    "original_position": "5",
                                                    "hold_s": "40"})
    assert spool_event({"Event": "Newchannel", "Uniqueid": "1.1"}, secret) is None


@pytest.mark.parametrize(("name", "score", "by_voice"), [("survey-by-key", 4, False),
                                                         ("survey-by-voice", 5, True)])
def test_a_survey_answer_is_stored_with_the_agent_who_took_the_call(
        name: str, score: int, by_voice: bool, menus: MenuSet, tmp_path: Path,
        engine: Engine) -> None:
    result = run_transcript(menus, load_transcript(ROOT / "menus" / "transcripts" /
                                                   f"{name}.yaml"))
    assert result.passed, result.failures
    answered = [data for kind, data in result.caller.events if kind == "survey-answered"]
    assert [(a["score"], a["by_voice"]) for a in answered] == [(score, by_voice)]
    spool = EventSpool(tmp_path / "spool")
    spool.emit("c1", "queue-joined", {"queue": "cards-cmn", "position": "1"})
    spool.emit("c1", "queue-answered", {"queue": "cards-cmn", "agent": "cards-cmn",
                                        "hold_s": "4"})
    spool.emit("c1", "survey-answered", answered[0])
    assert SpoolReplayer(tmp_path / "spool", engine).replay().rejected == 0
    with sessions(engine)() as session:
        survey = session.scalar(select(Survey))
        assert survey is not None
        assert (survey.score, survey.by_voice, survey.queue, survey.agent) == \
            (score, by_voice, "cards-cmn", "cards-cmn")


def test_a_round_ends_at_what_was_spooled_when_it_began(tmp_path: Path, engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls keep writing while a round replays (faster than the database takes them at full
    load): the round still returns, so the records service gets on with its other work, and
    the next round takes what came meanwhile."""
    spool = tmp_path / "spool"

    def note(n: int) -> dict[str, object]:
        return {"id": f"n{n}", "at": "2026-11-23T02:00:00+00:00", "call_id": "1732350000.7",
                "kind": "note", "data": {}}

    write(spool, A_CALL[0], *(note(n) for n in range(300)))
    written = iter(range(300, 1500))
    real_apply = db.records.apply_event

    def apply_while_calls_write(*args: object) -> bool:
        more = next(written, None)
        if more is not None:
            write(spool, note(more))
        return real_apply(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(db.replay, "apply_event", apply_while_calls_write)
    replayer = SpoolReplayer(spool, engine)
    first = replayer.replay()
    assert first.error is None and 301 <= first.applied < 1000
    rounds, total = 1, first.applied
    while (report := replayer.replay()).applied:  # the writer stops after 1200 more
        rounds, total = rounds + 1, total + report.applied
    with sessions(engine)() as session:
        assert session.scalar(select(func.count()).select_from(CallEvent)) == 1501
    assert total == 1501 and rounds > 2


def test_a_batch_applies_a_repeated_line_once_and_a_bad_line_alone(tmp_path: Path,
                                                                   engine: Engine) -> None:
    """The fast path (one transaction per batch, lookups made once) keeps exactly-once: a
    line written twice counts once; a batch with a bad line is applied one event at a time,
    the bad one set aside and the others kept."""
    write(tmp_path / "spool", *A_CALL[:3], A_CALL[1])
    first = SpoolReplayer(tmp_path / "spool", engine).replay()
    assert (first.applied, first.duplicates, first.rejected) == (3, 1, 0)
    write(tmp_path / "spool", *A_CALL[3:5], event(9, "queue-answered", "2026-11-23T02:01:00Z"),
          *A_CALL[5:])
    second = SpoolReplayer(tmp_path / "spool", engine).replay()
    assert (second.applied, second.rejected) == (len(A_CALL) - 3, 1)  # no queue: bad
    with sessions(engine)() as session:
        assert session.scalar(select(func.count()).select_from(CallEvent)) == len(A_CALL)
    assert "e9" in (tmp_path / "spool" / REJECTED_FILE).read_text(encoding="utf-8")


def test_many_calls_across_batches_are_recorded_whole(tmp_path: Path, engine: Engine) -> None:
    """Calls spread over several batches: every event once, each call's legs and offers
    complete (rows referring to a call written after it, whatever the unit of work's order)."""
    calls = 250
    written = write_calls(tmp_path / "spool", calls)
    report = SpoolReplayer(tmp_path / "spool", engine).replay()
    assert (report.applied, report.rejected, report.error) == (written, 0, None)
    assert written == calls * EVENTS_PER_CALL > 3 * db.replay.BATCH_EVENTS
    with sessions(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == calls
        assert session.scalar(select(func.count(func.distinct(CallEvent.event_id)))) == written
        legs = session.scalars(select(QueueLeg)).all()
        assert len(legs) == calls and {(leg.result, leg.talk_s) for leg in legs} == {
            ("answered", 95)}
        offers = session.scalars(select(AgentOffer)).all()
        assert len(offers) == calls and {o.status for o in offers} == {"completed"}
