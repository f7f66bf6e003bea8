"""The production `hotline` route (agi.hotline_route.HotlineRoute) served by the FastAGI
server against a strict fake Asterisk, with fake ports behind it: a small menu folder, a
directory in memory, an event list, a stopped clock. Every AGI command the route sends is
checked, in order, down to the outcome's variables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from agi.dispatch import SessionEnd
from agi.hotline_route import HotlineRoute, no_queue_state
from agi.menu_store import MenuStore
from agi.routes import build_routes
from ivr.catalog import prompt_sound
from ivr.directory import InMemoryDirectory
from ivr.outcomes import CallSummary, Failure, HangUp, QueueCall, QueueRoute
from services.composition import with_overlay
from tests.fake_asterisk import Expect, FakeAsterisk
from tests.support import FixedClock, RunningServer, start_fastagi

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "prompts" / "catalog.yaml"
KEYS = "0123456789*#"


class EventList:
    """`ivr.ports.EventSink` keeping what the route reports."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, object]]] = []

    def emit(self, call_id: str, kind: str, data: dict[str, object]) -> None:
        self.events.append((call_id, kind, data))


def write_menus(folder: Path) -> None:
    """One menu: 1 to a queue, 2 to goodbye, 3 keys an account number then goodbye."""
    line = yaml.safe_load((ROOT / "menus" / "line.yaml").read_text(encoding="utf-8"))
    line["line"].update(entry="start", agent="transfer", exhausted="transfer",
                        business_hours={}, contact={}, survey=None,
                        no_agent=None)
    line["queues"] = {"cards": {"description": "contract test", "recorded": False}}
    line["nodes"] = {
        "start": {"kind": "menu", "prompt": "main.menu",
                  "options": [{"key": "1", "goto": "transfer", "intent": "lost-card"},
                              {"key": "2", "goto": "bye"},
                              {"key": "3", "goto": "account"}]},
        "account": {"kind": "collect", "prompt": "loans.enter_account", "slot": "loan_account",
                    "min_length": 8, "max_length": 19, "next": "bye"},
        "transfer": {"kind": "queue", "queue": "cards", "intent": "cards", "priority": 3,
                     "prompt": "sys.transfer_agent"},
        "bye": {"kind": "hangup", "prompt": "common.goodbye", "reason": "self-service"},
    }
    folder.mkdir()
    (folder / "line.yaml").write_text(yaml.safe_dump(line, allow_unicode=True),
                                      encoding="utf-8")


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    """Rendered prompts as the route checks them: a .wav per prompt it may play."""
    folder = tmp_path / "prompts"
    for prompt_id in ("main.menu", "sys.transfer_agent", "common.goodbye",
                      "loans.enter_account"):
        sound = prompt_sound(folder, prompt_id, "cmn").with_suffix(".wav")
        sound.parent.mkdir(parents=True, exist_ok=True)
        sound.write_bytes(b"RIFF")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> MenuStore:
    write_menus(tmp_path / "menus")
    store = MenuStore(tmp_path / "menus", CATALOG)
    assert store.reload().applied
    return store


@pytest.fixture
def events() -> EventList:
    return EventList()


def serve(store: MenuStore, prompts_dir: Path, events: EventList,
          tmp_path: Path) -> RunningServer:
    route = HotlineRoute(store=store, prompts_dir=prompts_dir,
                         messages_dir=tmp_path / "messages", directory=InMemoryDirectory([]),
                         events=events, clock=FixedClock(datetime.fromisoformat(
                             "2026-11-23T10:00:00+08:00")), queue_state=no_queue_state)
    return start_fastagi(routes=build_routes(route, route.resume_from_queue, route.survey),
                         idle_timeout_s=5)


@pytest.fixture
def served(store: MenuStore, prompts_dir: Path, events: EventList,
           tmp_path: Path) -> Iterator[RunningServer]:
    running = serve(store, prompts_dir, events, tmp_path)
    yield running
    running.stop(drain_timeout_s=5)


def opening(store: MenuStore, prompts_dir: Path, key_result: str) -> list[Expect]:
    menus = store.current()
    assert menus is not None
    return [
        Expect(f'SET VARIABLE "IVR_MENU_VERSION" "{menus.version}"'),
        Expect('GET VARIABLE "CALLERID(num)"', ("200 result=1 (13800001234)",)),
        Expect(f'STREAM FILE "{prompt_sound(prompts_dir, "main.menu", "cmn")}" "{KEYS}"',
               (f"200 result={key_result} endpos=1200",)),
    ]


def test_a_chosen_queue_reaches_the_dialplan_as_the_real_asterisk_queue(
        served: RunningServer, store: MenuStore, prompts_dir: Path, events: EventList) -> None:
    with FakeAsterisk.connect(served.port) as peer:
        peer.send_env()
        peer.play([
            *opening(store, prompts_dir, str(ord("1"))),
            Expect(f'STREAM FILE "{prompt_sound(prompts_dir, "sys.transfer_agent", "cmn")}" '
                   '""', ("200 result=0 endpos=4000",)),
            Expect('SET VARIABLE "IVR_REASON" "routed"'),
            Expect('SET VARIABLE "IVR_QUEUE" "cards-cmn"'),
            Expect('SET VARIABLE "IVR_CHOICE" "1"'),
            Expect('SET VARIABLE "IVR_PRIORITY" "3"'),
            Expect('SET VARIABLE "IVR_SKILLS" "lang-cmn"'),
            Expect('SET VARIABLE "IVR_INTENT" "cards"'),
            Expect('SET VARIABLE "IVR_LANGUAGE" "cmn"'),
            Expect('SET VARIABLE "IVR_PATH" "start>transfer"'),
            Expect('SET VARIABLE "IVR_MAX_PENALTY" "15"'),  # nobody speaks it: wide at once
            Expect('SET VARIABLE "IVR_SERVICE" "cards"'),
            # No agent in 300 s: the fallback queue (this line has no no-agent menu).
            Expect('SET VARIABLE "IVR_QUEUE_TIMEOUT" "300"'),
            Expect('SET VARIABLE "IVR_OUTCOME" "queue"'),
        ])
        peer.expect_closed()
    report = served.sessions.wait()[0]
    assert report.end is SessionEnd.COMPLETED
    assert isinstance(report.outcome, QueueCall)
    assert (report.outcome.service, report.outcome.route) == (
        "cards", QueueRoute("cards-cmn", priority=3, max_penalty=15))
    summary = next(data for _call, kind, data in events.events if kind == "ivr-finished")
    assert summary["events"] == ["start: key 1"] and summary["queue"] == "cards"


def test_self_service_ends_with_goodbye_and_no_queue_variables(
        served: RunningServer, store: MenuStore, prompts_dir: Path) -> None:
    with FakeAsterisk.connect(served.port) as peer:
        peer.send_env()
        peer.play([
            *opening(store, prompts_dir, str(ord("2"))),
            Expect(f'STREAM FILE "{prompt_sound(prompts_dir, "common.goodbye", "cmn")}" ""',
                   ("200 result=0 endpos=4000",)),
            Expect('SET VARIABLE "IVR_REASON" "self-service"'),
            Expect('SET VARIABLE "IVR_CHOICE" "2"'),
            Expect('SET VARIABLE "IVR_LANGUAGE" "cmn"'),
            Expect('SET VARIABLE "IVR_PATH" "start>bye"'),
            Expect('SET VARIABLE "IVR_OUTCOME" "hangup"'),
        ])
        peer.expect_closed()
    report = served.sessions.wait()[0]
    assert isinstance(report.outcome, HangUp) and report.outcome.callback is None


def test_a_number_is_read_with_its_prompt_in_one_asterisk_command(
        served: RunningServer, store: MenuStore, prompts_dir: Path) -> None:
    """Keys that arrive between two AGI commands are dropped by Asterisk: the prompt, the
    first key (6 s after it: 3 s of silence, then Read's 3 s) and the rest are one Read."""
    prompt = prompt_sound(prompts_dir, "loans.enter_account", "cmn")
    with FakeAsterisk.connect(served.port) as peer:
        peer.send_env()
        peer.play([
            *opening(store, prompts_dir, str(ord("3"))),
            Expect('SET VARIABLE "TIMEOUT(digit)" "3"'),
            Expect(f'EXEC "Read" "HOTLINE_DIGITS,{prompt}&silence/3,19,t(#),1,3"'),
            Expect('GET FULL VARIABLE "${READSTATUS}|${HOTLINE_DIGITS}"',
                   ("200 result=1 (OK|6222020012345678)",)),
            Expect(f'STREAM FILE "{prompt_sound(prompts_dir, "common.goodbye", "cmn")}" ""',
                   ("200 result=0 endpos=4000",)),
            Expect('SET VARIABLE "IVR_REASON" "self-service"'),
            Expect('SET VARIABLE "IVR_CHOICE" "3"'),
            Expect('SET VARIABLE "IVR_LANGUAGE" "cmn"'),
            Expect('SET VARIABLE "IVR_PATH" "start>account>bye"'),
            Expect('SET VARIABLE "IVR_OUTCOME" "hangup"'),
        ])
        peer.expect_closed()
    report = served.sessions.wait()[0]
    assert isinstance(report.outcome, HangUp)


def test_no_valid_menus_is_a_failure_the_dialplan_hands_to_a_human(
        prompts_dir: Path, events: EventList, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "line.yaml").write_text("line: [broken", encoding="utf-8")
    store = MenuStore(broken, CATALOG)
    assert not store.reload().applied  # never loaded: nothing to serve
    running = serve(store, prompts_dir, events, tmp_path)
    try:
        with FakeAsterisk.connect(running.port) as peer:
            peer.send_env()
            peer.play([Expect('SET VARIABLE "IVR_REASON" "no-valid-menus"'),
                       Expect('SET VARIABLE "IVR_OUTCOME" "failed"')])
            peer.expect_closed()
        assert running.sessions.wait()[0].outcome == Failure.because("no-valid-menus")
    finally:
        running.stop(drain_timeout_s=5)


def test_a_line_without_a_survey_says_goodbye_at_the_survey_route(
        served: RunningServer) -> None:
    with FakeAsterisk.connect(served.port) as peer:
        peer.send_env(agi_network_script="survey")
        peer.play([Expect('SET VARIABLE "IVR_REASON" "no-survey"'),
                   Expect('SET VARIABLE "IVR_OUTCOME" "hangup"')])
        peer.expect_closed()
    assert served.sessions.wait()[0].outcome == HangUp(summary=CallSummary(reason="no-survey"))


def test_a_route_overlay_adds_routes_and_never_replaces_the_hotlines() -> None:
    routes = build_routes(*(lambda _channel: Failure.because("x") for _ in range(3)))
    extended = with_overlay(routes, "tests.support:OVERLAY_ROUTES")
    assert set(extended) == {"hotline", "queue-exit", "survey", "starter"}
    with pytest.raises(ValueError, match="would replace"):
        with_overlay(routes, "tests.support:STARTER_ROUTES")  # its route is named hotline
