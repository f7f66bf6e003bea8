"""The agent desk: agents sign in bound to an agent id and see only the call offered to them
(the screen pop), set their presence in Asterisk's queues, and wrap up; nothing else of the
console is theirs."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from console import auth
from console.app import ConsoleConfig, create_app
from db.kpis import compute
from db.models import (
    Account,
    AgentOffer,
    AgentPresence,
    Call,
    Callback,
    Complaint,
    Customer,
    PromiseToPay,
    QueueLeg,
    WrapUp,
)
from db.records import apply_event
from db.tickets import FileTicketIssuer
from ivr.agents import Agent, SkillRouter
from ivr.menu_loader import MenuSet
from pbx.call_events import spool_event
from pbx.presence import PresenceControl
from pbx.transfer import CallTransfer
from services.wrap_up_gate import WrapUpGate

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
AGENTS = [Agent(id="cards-cmn-1", extension="1001", skills={"cards": 5}),
          Agent(id="cards-yue-1", extension="1002", skills={"cards": 5})]


class FakeAmi:
    """A strict AMI peer: records every action; only `allowed` actions may be sent."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, dict[str, Any]]] = []

    def __enter__(self) -> FakeAmi:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        return None

    def action(self, name: str, **headers: Any) -> dict[str, str]:
        assert name in self.allowed, name
        self.actions.append((name, headers))
        return {"Response": "Success"}

    allowed: tuple[str, ...] = ("QueuePause",)


def presence(ami: FakeAmi) -> PresenceControl:
    return PresenceControl(lambda: ami, AGENTS)  # type: ignore[arg-type, return-value]


class Clock:
    def __init__(self) -> None:
        self.at = START + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def desk(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session, session.begin():
        session.add(Customer(customer_id="C1002", vip=True))
        session.add(Account(account_no="6200000000002", customer_id="C1002", kind="card",
                            status="active", balance=Decimal("8200.00"),
                            minimum_due=Decimal("820.00"), days_overdue=35,
                            overdue_amount=Decimal("3200.00")))
        session.add_all([
            Call(call_id="old-1", started_at=START - timedelta(hours=5), caller_key="k2",
                 customer_id="C1002", intent="repayment", outcome="queue"),
            Call(call_id="now-1", started_at=START, caller_key="k2", caller_masked="*******0002",
                 customer_id="C1002", language="hak", intent="overdue", verified="pin",
                 verify_failures=1, path="welcome.start>main.menu>loans.menu"),
            Call(call_id="other-1", started_at=START, caller_key="k9", customer_id=None),
        ])
        session.flush()
        session.add_all([
            WrapUp(call_id="old-1", agent="loans-1", customer_id="C1002",
                   at=START - timedelta(hours=4), disposition="payment-promised",
                   notes="salary late this month",
                   arrears_reason="salary paid late"),
            PromiseToPay(customer_id="C1002", call_id="old-1", made_at=START - timedelta(hours=4),
                         amount=Decimal("1000.00"), pay_by=date(2026, 11, 30), status="open"),
            Complaint(ticket="26112300017", call_id="old-1", category="complaint-fees",
                      opened_at=START - timedelta(hours=4), reply_due=START + timedelta(hours=44),
                      resolution_due=START + timedelta(days=15)),
            Callback(event_id="cb1", call_id="old-1", booked_at=START - timedelta(hours=4),
                     number="13800000002", queue="loans", language="cmn",
                     not_before=START + timedelta(hours=2), status="booked"),
            QueueLeg(call_id="now-1", queue="loans-hak", joined_at=START),
            AgentOffer(event_id="o1", call_id="now-1", agent="cards-cmn-1", queue="loans-hak",
                       offered_at=START + timedelta(seconds=40), status="ringing"),
            AgentOffer(event_id="o2", call_id="other-1", agent="cards-yue-1",
                       queue="cards-yue", offered_at=START, status="answered"),
        ])
        known = frozenset(a.id for a in AGENTS)
        auth.add_user(session, "li", PASSWORD, "agent", START, agent_id="cards-cmn-1",
                      known_agents=known)
        auth.add_user(session, "chan", PASSWORD, "agent", START, agent_id="cards-yue-1",
                      known_agents=known)
        auth.add_user(session, "sup1", PASSWORD, "supervisor", START)
    ami = FakeAmi()
    clock = Clock()
    app = create_app(ConsoleConfig(
        engine=engine, recordings_dir=Path("/nonexistent"),
        now=clock, presence=presence(ami),
        agent_ids=tuple(a.id for a in AGENTS),
        node_words={"main.menu": "主菜单", "loans.menu": "贷款业务"},
        dialects={"hak": "客家话"}, pop_every_s=0.05, stream_for_s=0.3))
    return {"app": app, "ami": ami, "clock": clock, "engine": engine}


def signed_in(desk: dict[str, Any], username: str) -> TestClient:
    client = TestClient(desk["app"])
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf": csrf.group(1)}, follow_redirects=False)
    assert response.status_code == 303
    return client


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/desk").text)
    assert found is not None
    return found.group(1)


def test_an_agent_user_must_name_a_known_agent_of_their_own() -> None:
    known = frozenset({"cards-cmn-1"})
    session = None  # never reached: the checks come first
    with pytest.raises(auth.AuthError, match="agent id"):
        auth.add_user(session, "x", PASSWORD, "agent", START, known_agents=known)  # type: ignore[arg-type]
    with pytest.raises(auth.AuthError, match="agent id"):
        auth.add_user(session, "x", PASSWORD, "agent", START, agent_id="nobody",  # type: ignore[arg-type]
                      known_agents=known)
    with pytest.raises(auth.AuthError, match="only the agent role"):
        auth.add_user(session, "x", PASSWORD, "qa", START, agent_id="cards-cmn-1")  # type: ignore[arg-type]


def test_one_agent_id_belongs_to_one_user(desk: dict[str, Any]) -> None:
    with Session(desk["engine"]) as session, pytest.raises(auth.AuthError, match="already"):
        auth.add_user(session, "imposter", PASSWORD, "agent", START, agent_id="cards-cmn-1",
                      known_agents=frozenset({"cards-cmn-1"}))


def test_agents_reach_their_desk_and_nothing_of_the_back_office(desk: dict[str, Any]) -> None:
    client = signed_in(desk, "li")
    assert client.get("/", follow_redirects=False).headers["location"] == "/desk"
    for path in ("/recordings", "/recordings/1", "/complaints", "/followups", "/dashboard",
                 "/live", "/audit"):
        assert client.get(path).status_code == 403, path
    for path in ("/recordings/1/audio", "/recordings/1/download", "/followups/1/audio"):
        assert client.get(path).status_code == 403, path
    page = client.get("/desk")
    assert page.status_code == 200 and "Recordings" not in page.text
    # A supervisor has no desk: it is for the agent the calls ring.
    assert signed_in(desk, "sup1").get("/desk").status_code == 403


def test_the_screen_pop_shows_the_offered_call_and_its_customer(desk: dict[str, Any]) -> None:
    state = signed_in(desk, "li").get("/desk/state").json()
    pop = state["pop"]
    assert (pop["call_id"], pop["state"], pop["caller"]) == ("now-1", "ringing", "*******0002")
    assert (pop["verified"], pop["verify_failures"], pop["language"]) == ("pin", 1, "客家话")
    assert pop["path"] == ["welcome.start", "主菜单", "贷款业务"]
    assert pop["waited_s"] == 60  # still waiting: joined at START, now START + 1 min
    assert set(pop["flags"]) == {"repeat caller (24 h)", "VIP"}
    customer = pop["customer"]
    assert customer["accounts"] == [{
        "account": "…0002", "kind": "card", "status": "active", "balance": "8200.00",
        "minimum_due": "820.00", "due_date": None, "days_overdue": 35,
        "overdue_amount": "3200.00"}]
    assert customer["arrears_reason"] == "salary paid late"
    assert customer["promises"][0]["amount"] == "1000.00"
    assert customer["notes"][0]["notes"] == "salary late this month"
    assert customer["notes"][0]["at"] == "2026-11-23 06:00"  # the line's local time
    assert [c["ticket"] for c in pop["complaints"]] == ["26112300017"]
    assert [c["queue"] for c in pop["callbacks"]] == ["loans"]
    assert pop["history"][0]["disposition"] == "payment-promised"


def test_an_agent_never_sees_or_wraps_up_another_agents_call(desk: dict[str, Any]) -> None:
    chan = signed_in(desk, "chan")
    assert chan.get("/desk/state").json()["pop"]["call_id"] == "other-1"
    refused = chan.post("/desk/wrapup", data={"csrf": csrf_of(chan), "call_id": "now-1",
                                              "disposition": "resolved"})
    assert refused.status_code == 400 and "not a call you answered" in refused.text


def test_wrap_up_is_stored_with_the_call_and_customer_and_clears_the_screen(
        desk: dict[str, Any]) -> None:
    with Session(desk["engine"]) as session, session.begin():
        offer = session.scalar(select(AgentOffer).where(AgentOffer.event_id == "o1"))
        assert offer is not None
        offer.status, offer.answered_at = "completed", START + timedelta(seconds=45)
    li = signed_in(desk, "li")
    token = csrf_of(li)
    bad = li.post("/desk/wrapup", data={"csrf": token, "call_id": "now-1",
                                        "disposition": "made-up"})
    assert bad.status_code == 400
    far = li.post("/desk/wrapup", data={"csrf": token, "call_id": "now-1",
                                        "disposition": "payment-promised",
                                        "promise_amount": "3200", "promise_date": "2027-03-01"})
    assert far.status_code == 400 and "within 30 days" in far.text
    saved = li.post("/desk/wrapup", data={
        "csrf": token, "call_id": "now-1", "disposition": "payment-promised",
        "notes": "will pay on the 28th", "arrears_reason": "harvest sold late",
        "promise_amount": "3200", "promise_date": "2026-11-28", "follow_up": "yes"},
        follow_redirects=False)
    assert saved.status_code == 303
    with Session(desk["engine"]) as session:
        wrap = session.scalar(select(WrapUp).where(WrapUp.call_id == "now-1"))
        assert wrap is not None
        assert (wrap.agent, wrap.customer_id, wrap.disposition, wrap.follow_up) == (
            "cards-cmn-1", "C1002", "payment-promised", True)
        promise = session.scalar(select(PromiseToPay).where(PromiseToPay.call_id == "now-1"))
        assert promise is not None and promise.amount == Decimal("3200.00")
    assert li.get("/desk/state").json()["pop"] is None
    again = li.post("/desk/wrapup", data={"csrf": token, "call_id": "now-1",
                                          "disposition": "resolved"})
    assert again.status_code == 400


def test_presence_reaches_the_agents_queue_members_and_is_logged(desk: dict[str, Any]) -> None:
    li = signed_in(desk, "li")
    token = csrf_of(li)
    assert li.post("/desk/presence", data={"csrf": token, "state": "paused"}).status_code == 400
    assert li.post("/desk/presence", data={"csrf": "forged", "state": "ready"}
                   ).status_code == 403
    li.post("/desk/presence", data={"csrf": token, "state": "paused", "reason": "training"})
    li.post("/desk/presence", data={"csrf": token, "state": "ready"})
    assert desk["ami"].actions == [
        ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "true", "Reason": "training"}),
        ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "false"})]
    with Session(desk["engine"]) as session:
        logged = [(p.agent, p.state, p.reason, p.by) for p in session.scalars(
            select(AgentPresence).order_by(AgentPresence.id))]
    assert logged == [("cards-cmn-1", "paused", "training", "li"),
                      ("cards-cmn-1", "ready", None, "li")]
    sup = signed_in(desk, "sup1")
    live = sup.get("/live").text
    assert "cards-cmn-1" in live and "cards-yue-1" in live


def test_the_event_stream_sends_the_state_and_then_only_changes(desk: dict[str, Any]) -> None:
    li = signed_in(desk, "li")
    with li.stream("GET", "/desk/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    data = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert len(data) == 1 and data[0]["pop"]["call_id"] == "now-1"
    assert ": still here" in body


def test_asterisk_queue_events_become_the_agents_offers(engine: Engine) -> None:
    events = [
        {"Event": "AgentCalled", "Uniqueid": "c1", "Queue": "cards-cmn",
         "MemberName": "cards-cmn-1"},
        {"Event": "AgentRingNoAnswer", "Uniqueid": "c1", "Queue": "cards-cmn",
         "MemberName": "cards-cmn-1", "RingTime": "15"},
        {"Event": "AgentCalled", "Uniqueid": "c1", "Queue": "cards-cmn",
         "MemberName": "cards-yue-1", "Channel": "PJSIP/caller-00000001",
         "DestChannel": "PJSIP/1002-00000002"},
        {"Event": "AgentConnect", "Uniqueid": "c1", "Queue": "cards-cmn",
         "MemberName": "cards-yue-1", "HoldTime": "20", "RingTime": "3"},
        {"Event": "AgentComplete", "Uniqueid": "c1", "Queue": "cards-cmn",
         "MemberName": "cards-yue-1", "TalkTime": "60", "HoldTime": "20",
         "Reason": "agent"},
    ]
    with Session(engine) as session, session.begin():
        for n, event in enumerate(events):
            spooled = spool_event(event, b"k" * 32)
            assert spooled is not None
            call_id, kind, data = spooled
            apply_event(session, {"call_id": call_id, "kind": kind, "data": data,
                                  "at": (START + timedelta(seconds=n)).isoformat()}, f"e{n}")
    with Session(engine) as session:
        offers = [(o.agent, o.status) for o in session.scalars(
            select(AgentOffer).order_by(AgentOffer.id))]
    assert offers == [("cards-cmn-1", "missed"), ("cards-yue-1", "completed")]
    with Session(engine) as session:
        answered = session.scalar(select(AgentOffer).where(AgentOffer.agent == "cards-yue-1"))
        assert answered is not None
        assert (answered.caller_channel, answered.agent_channel) == (
            "PJSIP/caller-00000001", "PJSIP/1002-00000002")


def _completed(engine: Engine, event_id: str, call_id: str, agent: str,
               at: datetime) -> None:
    with Session(engine) as session, session.begin():
        if session.scalar(select(Call).where(Call.call_id == call_id)) is None:
            session.add(Call(call_id=call_id, started_at=at - timedelta(minutes=3)))
            session.flush()
        session.add(AgentOffer(event_id=event_id, call_id=call_id, agent=agent, queue="q",
                               offered_at=at - timedelta(minutes=2), status="completed",
                               answered_at=at - timedelta(minutes=2), completed_at=at))


def test_a_desk_agent_is_held_until_the_wrap_up_is_saved(desk: dict[str, Any]) -> None:
    engine, ami = desk["engine"], desk["ami"]
    gate = WrapUpGate(engine, presence(ami), limit_s=120)
    ended = START + timedelta(minutes=10)
    _completed(engine, "g1", "now-1", "cards-cmn-1", ended)
    gate.step(ended + timedelta(seconds=1))
    gate.step(ended + timedelta(seconds=2))  # held once, not again
    assert ami.actions == [("QueuePause", {"Interface": "PJSIP/1001", "Paused": "true",
                                           "Reason": "wrap-up"})]
    li = signed_in(desk, "li")
    desk["clock"].at = ended + timedelta(seconds=30)
    li.post("/desk/wrapup", data={"csrf": csrf_of(li), "call_id": "now-1",
                                  "disposition": "resolved"})
    gate.step(ended + timedelta(seconds=31))
    assert ami.actions[-1] == ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "false"})
    gate.step(ended + timedelta(seconds=32))
    assert len(ami.actions) == 2  # wrapped up: never held again for that call


def test_the_hold_ends_when_its_time_runs_out_and_a_break_is_kept(
        desk: dict[str, Any]) -> None:
    engine, ami = desk["engine"], desk["ami"]
    gate = WrapUpGate(engine, presence(ami), limit_s=120)
    ended = START + timedelta(minutes=10)
    _completed(engine, "g1", "now-1", "cards-cmn-1", ended)
    _completed(engine, "g2", "other-1", "cards-yue-1", ended)
    gate.step(ended)
    chan = signed_in(desk, "chan")
    desk["clock"].at = ended + timedelta(seconds=5)
    chan.post("/desk/presence", data={"csrf": csrf_of(chan), "state": "paused",
                                      "reason": "break"})
    gate.step(ended + timedelta(seconds=121))
    unpaused = [h["Interface"] for _, h in ami.actions if h["Paused"] == "false"]
    assert unpaused == ["PJSIP/1001"]  # cards-yue-1 chose a break: it stays


def test_occupancy_comes_from_the_presence_log_and_talk_time(engine: Engine) -> None:
    day = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        session.add(Call(call_id="t1", started_at=day + timedelta(hours=1)))
        session.flush()
        session.add_all([
            # In force from the day before: ready from the start of the period.
            AgentPresence(agent="a1", at=day - timedelta(hours=2), state="ready", by="a"),
            AgentPresence(agent="a1", at=day + timedelta(hours=2), state="paused",
                          reason="break", by="a"),
            AgentPresence(agent="a1", at=day + timedelta(hours=2, minutes=15), state="ready",
                          by="a"),
            AgentPresence(agent="a1", at=day + timedelta(hours=4), state="paused",
                          reason="training", by="a"),
            QueueLeg(call_id="t1", queue="q", joined_at=day + timedelta(hours=1),
                     agent="a1", talk_s=3600, result="answered"),
        ])
    with Session(engine) as session:
        kpis = compute(session, day, day + timedelta(hours=5), day + timedelta(days=1))
    spent = kpis.agents["a1"]
    assert spent.ready_s == (2 * 60 + 105) * 60  # 0:00-2:00 and 2:15-4:00
    assert spent.paused_s == {"break": 15 * 60, "training": 60 * 60}
    assert spent.occupancy == pytest.approx(3600 / ((2 * 60 + 105) * 60))


def test_the_agent_books_a_callback_and_opens_a_complaint_for_their_caller(
        desk: dict[str, Any], tmp_path: Path, menus: MenuSet) -> None:
    config = desk["app"].state.config
    config.line = menus.line
    config.tickets = FileTicketIssuer(tmp_path / "tickets")
    with Session(desk["engine"]) as session, session.begin():
        offer = session.scalar(select(AgentOffer).where(AgentOffer.event_id == "o1"))
        assert offer is not None
        offer.status = "answered"
    li = signed_in(desk, "li")
    token = csrf_of(li)
    # Saturday 2026-11-21 22:30 local: quiet hours, so the next morning's opening.
    desk["clock"].at = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
    bad = li.post("/desk/callback", data={"csrf": token, "call_id": "now-1",
                                          "number": "12345"})
    assert bad.status_code == 400 and "Chinese mobile" in bad.text
    assert li.post("/desk/callback", data={"csrf": token, "call_id": "now-1",
                                           "number": "138 0000 0009"},
                   follow_redirects=False).status_code == 303
    assert li.post("/desk/complaint", data={
        "csrf": token, "call_id": "now-1", "category": "complaint-fees",
        "description": "annual fee charged twice"}, follow_redirects=False).status_code == 303
    # Not for someone else's call.
    chan = signed_in(desk, "chan")
    refused = chan.post("/desk/callback", data={"csrf": csrf_of(chan), "call_id": "now-1",
                                                "number": "13800000009"})
    assert refused.status_code == 400
    with Session(desk["engine"]) as session:
        callback = session.scalar(select(Callback).where(Callback.call_id == "now-1"))
        assert callback is not None and callback.number == "13800000009"
        assert callback.not_before == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 Sun
        complaint = session.scalar(select(Complaint).where(Complaint.call_id == "now-1"))
        assert complaint is not None and complaint.ticket.startswith("261121")
        assert complaint.reply_due - complaint.opened_at == timedelta(hours=48)
        assert complaint.transcript == "annual fee charged twice"



class TransferAmi(FakeAmi):
    allowed = ("Setvar", "Redirect", "Hangup")


def test_a_transfer_moves_the_callers_channel_to_the_new_queue_with_its_context(
        desk: dict[str, Any], menus: MenuSet) -> None:
    ami = TransferAmi()
    config = desk["app"].state.config
    config.transfer = CallTransfer(lambda: ami, SkillRouter.for_menus(menus, AGENTS),  # type: ignore[arg-type, return-value]
                                   ["cards", "collections"])
    with Session(desk["engine"]) as session, session.begin():
        offer = session.scalar(select(AgentOffer).where(AgentOffer.event_id == "o1"))
        assert offer is not None
        offer.status, offer.caller_channel = "answered", "Local/s@hotline-inbound-0001;2"
        offer.agent_channel = "PJSIP/1001-00000007"
    li = signed_in(desk, "li")
    token = csrf_of(li)
    unknown = li.post("/desk/transfer", data={"csrf": token, "call_id": "now-1",
                                              "queue": "nowhere"})
    assert unknown.status_code == 400 and ami.actions == []
    moved = li.post("/desk/transfer", data={"csrf": token, "call_id": "now-1",
                                            "queue": "collections"}, follow_redirects=False)
    assert moved.status_code == 303
    channel = "Local/s@hotline-inbound-0001;2"
    assert all(h["Channel"] == channel for _, h in ami.actions)
    set_to = {h["Variable"]: h["Value"] for name, h in ami.actions if name == "Setvar"}
    assert set_to["IVR_QUEUE"] == "collections-hak" and set_to["IVR_SERVICE"] == "collections"
    assert set_to["IVR_REASON"] == "transfer"
    assert "IVR_PATH" not in set_to and "IVR_CUSTOMER" not in set_to  # the context stays
    assert ami.actions[-1] == ("Redirect", {"Channel": channel, "Context": "hotline-outcome",
                                            "Exten": "queue", "Priority": "1"})
    # Another agent cannot move this caller.
    chan = signed_in(desk, "chan")
    assert chan.post("/desk/transfer", data={"csrf": csrf_of(chan), "call_id": "now-1",
                                             "queue": "cards"}).status_code == 400



def test_ending_the_call_for_the_survey_hangs_up_only_the_agents_leg(
        desk: dict[str, Any], menus: MenuSet) -> None:
    ami = TransferAmi()
    config = desk["app"].state.config
    config.transfer = CallTransfer(lambda: ami, SkillRouter.for_menus(menus, AGENTS),  # type: ignore[arg-type, return-value]
                                   ["cards"])
    li = signed_in(desk, "li")
    token = csrf_of(li)
    ringing = li.post("/desk/survey", data={"csrf": token, "call_id": "now-1"})
    assert ringing.status_code == 400 and ami.actions == []  # not answered yet
    with Session(desk["engine"]) as session, session.begin():
        offer = session.scalar(select(AgentOffer).where(AgentOffer.event_id == "o1"))
        assert offer is not None
        offer.status, offer.agent_channel = "answered", "PJSIP/1001-00000007"
    assert li.post("/desk/survey", data={"csrf": token, "call_id": "now-1"},
                   follow_redirects=False).status_code == 303
    assert ami.actions == [("Hangup", {"Channel": "PJSIP/1001-00000007", "Cause": "16"})]
