"""Complaint intake and tickets: a ticket number read back digit by digit, unique numbers with
a check digit, the two clocks, the workflow and its extension rules, recordings held."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from db import complaints as rules
from db.database import sessions
from db.models import Call, Complaint, Customer, OutboxMessage, Recording
from db.outbox import TEXTS
from db.replay import SpoolReplayer
from db.spool import EventSpool
from db.tickets import FileTicketIssuer
from ivr.matching import luhn_check_digit, luhn_valid
from ivr.menu_loader import MenuSet
from ivr.outcomes import QueueCall
from ivr.ports import TicketUnavailable
from ivr.transcripts import ScriptedCaller, load_transcript, run_transcript

ROOT = Path(__file__).resolve().parents[2]
FILED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_the_ticket_is_read_back_digit_by_digit(menus: MenuSet) -> None:
    transcript = load_transcript(ROOT / "menus" / "transcripts" /
                                 "complaint-with-callback.yaml")
    result = run_transcript(menus, transcript)
    assert result.passed, result.failures
    played = [prompt for prompt, _language in result.caller.played]
    start = played.index("complaints.ticket_is") + 1
    digits = played[start:played.index("complaints.ticket_note")]
    # 26112300017 in Mandarin: 1 is read 幺 in numbers read digit by digit.
    assert digits == ["say.d2", "say.d6", "say.yao", "say.yao", "say.d2", "say.d3", "say.d0",
                      "say.d0", "say.d0", "say.yao", "say.d7"]
    filed = [data for kind, data in result.caller.events if kind == "complaint-filed"]
    assert filed and filed[0]["ticket"] == "26112300017"
    assert filed[0]["category"] == "complaint-fees" and filed[0]["message"]


def test_without_a_ticket_the_caller_reaches_a_complaints_agent(menus: MenuSet) -> None:
    class NoTickets(ScriptedCaller):
        def issue(self, now: datetime) -> str:
            raise TicketUnavailable("disk full")

    transcript = load_transcript(ROOT / "menus" / "transcripts" /
                                 "complaint-with-callback.yaml")
    transcript = transcript.model_copy(update={
        "steps": transcript.steps[:6], "expect": transcript.expect.model_copy(update={
            "outcome": "queue", "events": ["message-recorded"]})})
    result = run_transcript(menus, transcript, NoTickets(transcript))
    assert isinstance(result.outcome, QueueCall) and result.outcome.service == "complaints", \
        result.failures
    assert result.outcome.reason == "complaint-not-filed"


def test_ticket_numbers_are_unique_dated_and_checked(tmp_path: Path) -> None:
    issuer = FileTicketIssuer(tmp_path / "tickets")
    day = datetime(2026, 11, 23, 10, 0)
    issued: list[str] = []

    def issue_many() -> None:
        for _ in range(25):
            issued.append(issuer.issue(day))

    threads = [threading.Thread(target=issue_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(issued) == len(set(issued)) == 200
    assert all(t.startswith("261123") and len(t) == 11 for t in issued)
    assert sorted(int(t[6:10]) for t in issued) == list(range(1, 201))
    assert all(luhn_check_digit(t[:-1]) == t[-1] and luhn_valid(t) for t in issued)
    # A new day starts again at 1; a wrong digit no longer checks out.
    assert issuer.issue(day + timedelta(days=1))[:10] == "2611240001"
    assert luhn_check_digit("2611230001") != luhn_check_digit("2611230002")
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    with pytest.raises(TicketUnavailable):
        FileTicketIssuer(blocked).issue(day)


def test_a_filed_complaint_gets_its_clocks_callback_number_and_held_recordings(
        tmp_path: Path, engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        session.add(Call(call_id="c1"))
        session.flush()
        session.add(Recording(call_id="c1", path="/rec/c1.wav", size_bytes=1, duration_ms=1,
                              sha256="0" * 64, retain_until=date(2031, 1, 1),
                              registered_at=FILED))
    spool = EventSpool(tmp_path / "spool")
    spool.emit("c1", "message-transcribed", {"reference": "/m/c1-complaint.wav",
                                             "text": "利息算错了", "language": "cmn"})
    spool.emit("c1", "complaint-filed", {"ticket": "26112300017", "category": "complaint-fees",
                                         "message": "/m/c1-complaint.wav", "language": "cmn"})
    spool.emit("c1", "callback-requested", {
        "queue": "complaints", "number": "13800000009", "language": "cmn",
        "not_before": "2026-11-23T10:00+08:00"})
    report = SpoolReplayer(tmp_path / "spool", engine).replay()
    assert report.rejected == 0
    with sessions(engine)() as session:
        complaint = session.get(Complaint, "26112300017")
        assert complaint is not None
        assert complaint.reply_due - complaint.opened_at == timedelta(hours=48)
        assert complaint.resolution_due - complaint.opened_at == timedelta(days=15)
        assert (complaint.status, complaint.transcript, complaint.callback_number) == \
            ("new", "利息算错了", "13800000009")
        assert session.scalar(select(Recording.legal_hold)) is True


def test_the_workflow_moves_forward_only_and_extensions_need_approval(engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        complaint = rules.open_complaint(session, ticket="T1", call_id=None,
                                         category="complaint-fees", opened_at=FILED)
        with pytest.raises(rules.ComplaintError, match="assigned to"):
            rules.advance(complaint, "assigned", FILED)
        rules.advance(complaint, "assigned", FILED + timedelta(hours=1), assignee="li")
        with pytest.raises(rules.ComplaintError, match="cannot go back"):
            rules.advance(complaint, "new", FILED)
        assert rules.overdue(complaint, FILED + timedelta(hours=47)) == []
        assert rules.overdue(complaint, FILED + timedelta(hours=49)) == ["reply"]
        rules.advance(complaint, "replied", FILED + timedelta(hours=30))
        assert rules.overdue(complaint, FILED + timedelta(days=10)) == []
        assert rules.overdue(complaint, FILED + timedelta(days=16)) == ["resolution"]
        first = rules.extend(complaint, FILED + timedelta(days=14),
                             reason="waiting for the merchant")
        assert first == FILED + timedelta(days=30)
        session.flush()
        with pytest.raises(rules.ComplaintError, match="recorded approval"):
            rules.extend(complaint, FILED + timedelta(days=29), reason="more")
        second = rules.extend(complaint, FILED + timedelta(days=29), reason="more",
                              approved_by="head of complaints", approval_ref="memo 2026-117")
        assert second == FILED + timedelta(days=60)
        session.flush()
        with pytest.raises(rules.ComplaintError, match="extended twice"):
            rules.extend(complaint, FILED + timedelta(days=59), reason="again",
                         approved_by="x", approval_ref="y")
        rules.advance(complaint, "resolved", FILED + timedelta(days=40))
        rules.advance(complaint, "closed", FILED + timedelta(days=41))
        assert rules.overdue(complaint, FILED + timedelta(days=90)) == []
        assert [c.ticket for c in rules.find(session, status="closed")] == ["T1"]


def test_the_work_list_puts_the_clock_that_runs_out_first_on_top(engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        def filed(ticket: str, days_ago: float) -> Complaint:
            return rules.open_complaint(session, ticket=ticket, call_id=None,
                                        category="complaint-fees",
                                        opened_at=FILED - timedelta(days=days_ago))
        settled_old, settled_new = filed("S-old", 20), filed("S-new", 5)
        for settled in (settled_old, settled_new):
            rules.advance(settled, "resolved", FILED)
        filed("reply-later", 0.5)  # reply due in 1.5 days
        filed("reply-soon", 1.5)  # reply due in half a day
        answered = filed("resolve-soon", 14.8)  # replied; resolution due in 0.2 days
        rules.advance(answered, "replied", FILED - timedelta(days=14))
        session.flush()
        ordered = session.scalars(select(Complaint.ticket)
                                  .order_by(*rules.complaints_by_urgency())).all()
    assert ordered == ["resolve-soon", "reply-soon", "reply-later", "S-new", "S-old"]


def test_the_readmes_example_ticket_checks_out() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"check digit \(`(\d{11})`\)", readme)
    assert examples and all(luhn_valid(ticket) for ticket in examples), examples


def test_a_known_customers_complaint_ticket_is_also_sent_by_sms(tmp_path: Path,
                                                                 engine: Engine) -> None:
    with sessions(engine)() as session, session.begin():
        session.add(Customer(customer_id="C1001"))
    spool = EventSpool(tmp_path / "spool")
    spool.emit("c1", "complaint-filed", {"ticket": "26112300017", "category": "complaint-fees",
                                         "language": "cmn", "customer_id": "C1001"})
    spool.emit("c2", "complaint-filed", {"ticket": "26112300025", "category": "complaint-fees",
                                         "language": "cmn", "customer_id": None})
    assert SpoolReplayer(tmp_path / "spool", engine).replay().rejected == 0
    with sessions(engine)() as session:
        [message] = session.scalars(select(OutboxMessage)).all()
        assert (message.customer_id, message.kind, message.data["ticket"]) == (
            "C1001", "complaint-ticket", "26112300017")
        text = TEXTS[message.kind].format(**message.data)
        assert "26112300017" in text and "前答复您" in text
