"""Skill-based routing through real Asterisk with simulated agents
(tests/routing/agents.yaml, answered by tests/dialplan/simulated-agents.conf).

Calls are placed two ways: through the real menus by DTMF (the IVR chooses queue, language,
priority and the route), and straight into the dialplan's queue step with the variables the
routing policy computes — to set up waits, busy agents and competing callers exactly.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agi.hotline_route import HotlineRoute
from agi.menu_store import MenuStore
from db import migrate
from db.database import make_engine, sessions
from db.models import Call, Callback, CallbackAttempt
from db.spool import EventSpool
from hotline.agent_commands import queue_states
from hotline.prompt_commands import build_prompts
from ivr.agents import Agent, SkillRouter
from ivr.menu_loader import MenuSet
from ivr.transcripts import TranscriptDirectory, load_transcript
from pbx.ami import Ami
from pbx.process import AsteriskInstance
from pbx.transfer import CallTransfer
from services.records import Recorder
from tests.integration.conftest import ROUTING_AGENTS, ServerFactory
from tests.integration.dialling import agent_answered, dial_cantonese_dispute, dial_transcript
from tests.support import FixedClock, free_port, wait_until

ROOT = ROUTING_AGENTS.parents[2]
CANTONESE_CARDS = "Local/2001@hotline-simulated-agent/n"


def queue_call(ami: Ami, menus: MenuSet, agents: list[Agent], *, queue: str, language: str,
               priority: int = 0, intent: str = "test", exits: dict[str, str] | None = None,
               caller: tuple[str, ...] = ("CALLER_WAIT_S=60",),
               caller_number: str | None = None) -> str:
    """A caller straight into the queue step, with the route the policy gives. `exits`:
    IVR_CALLBACK / IVR_LEAVE_TO as the menus would set them; `caller`: the scripted
    caller's variables (CALLER_STEPS, CALLER_STAY_S, ...)."""
    route = SkillRouter.for_menus(menus, agents).route(queue, language, priority)
    call_id = f"route-{uuid.uuid4().hex[:12]}"
    variables = {"IVR_QUEUE": route.queue, "IVR_LANGUAGE": language,
                 "IVR_PRIORITY": str(priority), "IVR_INTENT": intent,
                 "IVR_MAX_PENALTY": str(route.max_penalty), "IVR_QUEUE_RULE": route.rule,
                 **(exits or {})}
    caller_id = {"CallerID": f"Caller <{caller_number}>"} if caller_number else {}
    ami.action("Originate", Channel="Local/s@hotline-scripted-queue-entry",
               Context="hotline-scripted-caller", Exten="s", Priority="1",
               ChannelId=f"caller-{call_id}", OtherChannelId=call_id,
               Async="true", Timeout="30000", **caller_id,
               Variable=[f"__{k}={v}" for k, v in variables.items()] + list(caller))
    return call_id


def live_route(asterisk: AsteriskInstance, agents: list[Agent],
               events: EventSpool | None = None,
               transcript: str = "card-dispute-cantonese") -> HotlineRoute:
    """The production route on freshly built prompts and the shipped menus, at 10:00 on a
    weekday (open, not quiet hours), with the transcript's customer directory."""
    settings = asterisk.settings
    assert not build_prompts(settings, quiet=True).problems
    store = MenuStore(settings.menus, settings.catalog_file)
    assert store.reload().applied
    return HotlineRoute(
        store=store, prompts_dir=settings.prompts_audio_dir,
        messages_dir=settings.messages_dir, directory=TranscriptDirectory(
            load_transcript(ROOT / "menus" / "transcripts" / f"{transcript}.yaml")),
        events=events or EventSpool(settings.spool_dir), agents=agents,
        clock=FixedClock(datetime.fromisoformat("2026-11-23T10:00:00+08:00")))


def joined(ami: Ami, call_id: str, timeout_s: float = 60) -> None:
    """The call is waiting in its queue (Asterisk's QueueCallerJoin): however busy the
    machine, a test that orders callers waits for this, not for a second to pass."""
    ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin"
                 and e.get("Uniqueid") == call_id, timeout_s)


def pause(ami: Ami, interface: str, paused: bool) -> None:
    ami.action("QueuePause", Interface=interface, Paused="true" if paused else "false")


def test_a_cantonese_card_caller_reaches_the_cantonese_card_agent_with_context(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], talk_s: None) -> None:
    trace = dial_cantonese_dispute(ami, start_fastagi, asterisk, menus, agents, stay_s=8)
    answered = agent_answered(ami, trace.hotline_id, timeout_s=5)
    assert answered["Agent"] == "2001"
    assert trace.ended.get("Queue") == "cards-disputes-yue"
    # The agent's screen: what the IVR learned, without re-asking.
    assert answered["Language"] == "yue"
    assert answered["Intent"] == "card-dispute"
    assert "cards.disputes" in answered["Path"]
    assert "lang-yue" in answered["Skills"]


def test_a_hakka_caller_reaches_the_agent_who_speaks_hakka(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], talk_s: None) -> None:
    """Dialect service: Mandarin prompts, the dialect's queue, the agent with lang-hak first
    (2004), though a Mandarin agent with the inclusive skill (2003) is free too."""
    trace = dial_transcript("dialect-hakka-inclusive", ami, start_fastagi, asterisk, menus,
                            agents, stay_s=8)
    answered = agent_answered(ami, trace.hotline_id, timeout_s=5)
    assert answered["Agent"] == "2004", answered
    assert trace.ended.get("Queue") == "inclusive-hak"
    assert (answered["Language"], answered["Intent"]) == ("hak", "dialect-service")
    assert "lang-hak" in answered["Skills"]
    played = [command.split('"')[1].split("/prompts/")[-1] for command, _result
              in trace.agi_commands if command.startswith("STREAM FILE")]
    assert "cmn/lang/choose_hak" in played and not any(p.startswith("hak/") for p in played)


@pytest.mark.timeout(300)  # two queued calls and a real one that stays 25 s
def test_a_caller_joining_a_long_queue_hears_place_and_wait_and_a_callback_offer(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], talk_s: None) -> None:
    card_agents = [a.ring for a in agents if a.extension in ("2001", "2002")]
    for interface in card_agents:
        pause(ami, interface, True)
    try:
        for _ in range(2):
            joined(ami, queue_call(ami, menus, agents, queue="cards-disputes", language="yue"))
        trace = dial_cantonese_dispute(ami, start_fastagi, asterisk, menus, agents,
                                       stay_s=25)
    finally:
        for interface in card_agents:
            pause(ami, interface, False)
    played = [command.split('"')[1].split("/prompts/")[-1] for command, _result
              in trace.agi_commands if command.startswith("STREAM FILE")]
    # 3rd in line, two card agents (both busy): about 6 minutes, so a callback is offered.
    start = played.index("yue/queue/ahead")
    # Two callers ahead: 兩位, not 二位.
    assert played[start:start + 7] == ["yue/queue/ahead", "yue/say/liang",
                                       "yue/queue/callers", "yue/queue/wait", "yue/say/d6",
                                       "yue/queue/minutes", "yue/queue/callback_offer"], played
    assert trace.ended.get("Queue") == "cards-disputes-yue"  # declined: kept waiting


def test_when_the_cantonese_agent_is_busy_another_card_agent_answers_after_the_wait(
        ami: Ami, menus: MenuSet, agents: list[Agent], talk_s: None) -> None:
    pause(ami, CANTONESE_CARDS, True)
    try:
        started = time.monotonic()
        call_id = queue_call(ami, menus, agents, queue="cards", language="yue")
        answered = agent_answered(ami, call_id)
        waited_s = time.monotonic() - started
    finally:
        pause(ami, CANTONESE_CARDS, False)
    assert answered["Agent"] == "2002"  # the Mandarin card agent
    assert waited_s >= 4, f"overflowed after {waited_s:.1f} s, before widen_after_s"


def test_a_lost_card_call_jumps_ahead_of_a_routine_one(
        ami: Ami, menus: MenuSet, agents: list[Agent], talk_s: None) -> None:
    pause(ami, CANTONESE_CARDS, True)
    try:
        routine = queue_call(ami, menus, agents, queue="cards", language="yue")
        joined(ami, routine)  # the routine caller is first in line
        urgent = queue_call(ami, menus, agents, queue="cards", language="yue", priority=9,
                            intent="lost-card")
        joined(ami, urgent)
    finally:
        pause(ami, CANTONESE_CARDS, False)
    first = ami.wait_for(lambda e: e.get("UserEvent") == "AgentAnswered"
                         and e.get("Call") in (routine, urgent), 30)
    assert first["Call"] == urgent and first["Agent"] == "2001"
    assert agent_answered(ami, routine)["Call"] == routine


def test_queue_states_show_paused_busy_and_waiting(ami: Ami, menus: MenuSet,
                                                   agents: list[Agent], talk_s: None,
                                                   asterisk: AsteriskInstance) -> None:
    """What `hotline agents` shows, read from the running Asterisk."""
    assert not build_prompts(asterisk.settings, quiet=True).problems  # the reminder's audio
    everyone = [a.ring for a in agents if a.ring.startswith("Local/200")]
    for interface in everyone:
        pause(ami, interface, True)
    try:
        call_id = queue_call(ami, menus, agents, queue="cards", language="yue")
        music = ami.wait_for(lambda e: e.get("Event") == "MusicOnHoldStart"
                             and e.get("Uniqueid") == call_id, 10)
        assert music.get("Class") == "hotline"  # the caller is not left in silence
        time.sleep(0.5)
        states = {s.queue: s for s in queue_states(ami)}
        cards_yue = states["cards-yue"]
        assert cards_yue.waiting == 1
        assert sorted((m.agent, m.penalty, m.paused) for m in cards_yue.members) == \
            [("cards-cmn", 10, True), ("cards-yue", 0, True)]
        # While waiting, the reminder of the callback key plays in the caller's language.
        log = asterisk.settings.log_dir / "asterisk" / "messages.log"
        wait_until(lambda: "yue/queue/periodic" in log.read_text(), 30,
                   "the callback reminder in Cantonese")
    finally:
        for interface in everyone:
            pause(ami, interface, False)
    agent_answered(ami, call_id)

    def member_states() -> dict[str, str]:
        return {m.agent: m.state for m in
                {s.queue: s for s in queue_states(ami)}["cards-yue"].members}

    wait_until(lambda: member_states()["cards-yue"] == "on a call", 20,
               "the Cantonese agent on a call")


def test_sip_accounts_exist_on_loopback_with_digests_only(ami: Ami,
                                                          asterisk: AsteriskInstance) -> None:
    endpoints = ami.command("pjsip show endpoints")
    for account in ("caller", "2001", "2002", "2003"):
        assert f" {account} " in endpoints or f" {account}/" in endpoints, endpoints
    auth = ami.command("pjsip show auth caller-auth")
    assert "md5" in auth.lower(), auth
    rendered = (asterisk.settings.asterisk_dir / "etc" / "pjsip-endpoints.conf").read_text()
    for secret in (asterisk.settings.asterisk_dir / "sip-secrets").iterdir():
        assert secret.read_text().strip() not in rendered
        assert secret.stat().st_mode & 0o077 == 0  # the owner's only
    transports = ami.command("pjsip show transports")
    assert "127.0.0.1" in transports and "0.0.0.0" not in transports


def test_a_caller_who_asks_to_be_called_back_keeps_their_place(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], talk_s: None) -> None:
    """A Cantonese card caller presses 1 while waiting, confirms their number (1) to the
    callback node, and hangs up. A routine caller joins after them. When the agent is free,
    the placeholder holding the first caller's place is answered first, and only then is the
    caller dialled."""
    route = live_route(asterisk, agents)
    start_fastagi({"hotline": route, "queue-exit": route.resume_from_queue})
    ami.action("Setvar", Variable="CALLBACK_TECH", Value="Local/")
    ami.action("Setvar", Variable="CALLBACK_AT", Value="@hotline-scripted-callee")
    card_agents = [a.ring for a in agents if a.extension in ("2001", "2002")]
    for interface in card_agents:
        pause(ami, interface, True)
    try:
        first = queue_call(ami, menus, agents, queue="cards", language="yue",
                           intent="cards-general", exits={"IVR_CALLBACK": "cards.callback"},
                           caller=("CALLER_STEPS=3:1_2.5:1_3:1", "CALLER_STAY_S=20"),
                           caller_number="13800000001")
        booked = ami.wait_for(lambda e: e.get("Event") == "VarSet"
                              and e.get("Variable") == "IVR_CALLBACK_NOW"
                              and e.get("Uniqueid") == first, 40)
        assert booked["Value"] == "yes"
        # The placeholder takes the first caller's place.
        ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin"
                     and e.get("Context") == "hotline-virtual-hold", 30)
        second = queue_call(ami, menus, agents, queue="cards", language="yue")
        joined(ami, second)
    finally:
        for interface in card_agents:
            pause(ami, interface, False)
    answered = ami.wait_for(lambda e: e.get("UserEvent") == "AgentAnswered"
                            and e.get("Call") in (first, second), 30)
    assert answered["Call"] == first and answered["Reason"] == "callback", answered
    dialled = ami.wait_for(lambda e: e.get("UserEvent") == "CallbackAnswered", 30)
    assert dialled["Number"] == "13800000001"
    assert agent_answered(ami, second)["Call"] == second


def test_a_waiting_caller_presses_star_for_the_main_menu_and_chooses_again(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], talk_s: None) -> None:
    """A Cantonese caller waiting for a card agent presses *, is back at the main menu in
    Cantonese, picks cards (2) then other card services (3), and reaches a card agent whose
    screen shows the new choice."""
    route = live_route(asterisk, agents)
    start_fastagi({"hotline": route, "queue-exit": route.resume_from_queue})
    card_agents = [a.ring for a in agents if a.extension in ("2001", "2002")]
    for interface in card_agents:
        pause(ami, interface, True)
    try:
        call_id = queue_call(ami, menus, agents, queue="cards-disputes", language="yue",
                             priority=2, intent="card-dispute",
                             exits={"IVR_CALLBACK": "cards.callback",
                                    "IVR_LEAVE_TO": "main.menu"},
                             caller=("CALLER_STEPS=3:*_4:2_3:3", "CALLER_STAY_S=30"))
        left = ami.wait_for(lambda e: e.get("Event") == "VarSet"
                            and e.get("Variable") == "IVR_START"
                            and e.get("Uniqueid") == call_id, 20)
        assert left["Value"] == "main.menu"
    finally:
        for interface in card_agents:
            pause(ami, interface, False)
    answered = agent_answered(ami, call_id, 40)
    assert answered["Intent"] == "cards-general", answered
    assert answered["Language"] == "yue"
    assert answered["Path"].split(">")[:3] == ["main.menu", "cards.menu", "cards.general"]


def test_the_dialler_calls_a_due_callback_agent_first_and_logs_the_attempt(
        ami: Ami, asterisk: AsteriskInstance, agents: list[Agent], talk_s: None,
        tmp_path: Path) -> None:
    """A callback booked earlier (e.g. in the quiet hours) is due: the records service's
    dialler puts a placeholder in the Cantonese card queue; the agent answers first, then the
    customer is dialled; the attempt comes back through AMI and the spool into the database."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    settings = asterisk.settings.with_changes(database_url_setting=url)
    daytime = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
    recorder = Recorder(settings, clock=FixedClock(daytime))
    service = threading.Thread(target=recorder.run, args=(free_port(),))
    service.start()
    ami.action("Setvar", Variable="CALLBACK_TECH", Value="Local/")
    ami.action("Setvar", Variable="CALLBACK_AT", Value="@hotline-scripted-callee")
    call_id = f"booked-{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    try:
        with sessions(engine)() as session, session.begin():
            session.add(Call(call_id=call_id))
            session.flush()
            session.add(Callback(event_id=call_id, call_id=call_id, number="13800000009",
                                 booked_at=daytime - timedelta(hours=12), queue="cards",
                                 language="yue", intent="cards-general",
                                 not_before=daytime - timedelta(hours=2)))
        recorder.dial_once()
        assert recorder.status.callbacks_dialled == 1
        answered = agent_answered(ami, call_id)
        assert (answered["Agent"], answered["Reason"]) == ("2001", "callback")
        dialled = ami.wait_for(lambda e: e.get("UserEvent") == "CallbackAnswered"
                               and e.get("Number") == "13800000009", 30)
        assert dialled["Number"] == "13800000009"

        def logged() -> Callback | None:
            with sessions(engine)() as session:
                found = session.scalar(select(Callback).where(Callback.call_id == call_id))
                return found if found is not None and found.status == "done" else None

        deadline = time.monotonic() + 30
        while logged() is None:
            assert time.monotonic() < deadline, "the attempt never reached the database"
            time.sleep(0.5)
        with sessions(engine)() as session:
            results = session.scalars(select(CallbackAttempt.result)).all()
        assert results == ["ANSWER"]
    finally:
        recorder.stop()
        service.join(15)
        engine.dispose()


def test_after_the_agent_hangs_up_the_caller_rates_the_service(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], talk_s: None, tmp_path: Path) -> None:
    """The agent talks 2 s and hangs up first; the caller stays for the survey and presses 4
    over the question. The answer is spooled with the call for the records."""
    spool = EventSpool(tmp_path / "spool")
    route = live_route(asterisk, agents, spool, transcript="survey-by-key")
    start_fastagi({"hotline": route, "survey": route.survey})
    call_id = queue_call(ami, menus, agents, queue="cards", language="cmn",
                         intent="cards-general",
                         caller=("CALLER_STEPS=6:4_6:4", "CALLER_STAY_S=8"))
    assert agent_answered(ami, call_id)["Agent"] == "2002"
    deadline = time.monotonic() + 40
    while True:
        answers = [e for e in spool.read_all()
                   if e["kind"] == "survey-answered" and e["call_id"] == call_id]
        if answers or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [a["data"]["score"] for a in answers] == [4]  # type: ignore[index]


def test_an_agent_transfers_a_caller_who_keeps_what_the_ivr_learned(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent]) -> None:
    """The Cantonese card agent sends the caller to the loans queue from the desk: the
    caller leaves the first agent for the loans agent, whose screen has the same IVR path,
    language and intent, and says transfer."""
    ami.action("Setvar", Variable="AGENT_TALK_S", Value="12")
    dialling = threading.Thread(target=dial_cantonese_dispute, daemon=True, args=(
        ami, start_fastagi, asterisk, menus, agents), kwargs={"stay_s": 40})
    try:
        with asterisk.ami() as watcher:  # its own connection: the dialler reads the shared one
            dialling.start()
            first = watcher.wait_for(lambda e: e.get("UserEvent") == "AgentAnswered", 60)
            connected = watcher.wait_for(lambda e: e.get("Event") == "AgentConnect"
                                         and e.get("Uniqueid") == first["Call"], 10)
            transfer = CallTransfer(asterisk.ami, SkillRouter.for_menus(menus, agents),
                                    ["loans", "cards"])
            route = transfer.transfer(connected["Channel"], "loans", "yue")
            assert route.queue == "loans-yue"
            second = watcher.wait_for(lambda e: e.get("UserEvent") == "AgentAnswered"
                                      and e.get("Call") == first["Call"]
                                      and e.get("Reason") == "transfer", 60)
    finally:
        ami.action("Setvar", Variable="AGENT_TALK_S", Value="3")
        dialling.join(90)
    assert (first["Agent"], second["Agent"]) == ("2001", "2003")
    for screen in ("Path", "Language", "Intent", "Customer", "Verified"):
        assert second[screen] == first[screen], screen
