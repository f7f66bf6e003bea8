"""The shipped menus through real Asterisk: scripted callers walk them by DTMF (the same
transcripts as the unit tier), hearing the real rendered prompts; menus reload live."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml

from agi.channel import AgiChannel
from agi.hotline_route import HotlineRoute, no_queue_state
from agi.menu_store import MenuStore
from agi.routes import Route
from bench.sip_plans import keys_of, plan_and_outcome
from db.spool import EventSpool
from ivr.agents import asterisk_queue
from ivr.directory import InMemoryDirectory
from ivr.outcomes import Outcome, QueueCall
from ivr.transcripts import (
    Transcript,
    TranscriptDirectory,
    TranscriptServices,
    load_transcript,
)
from pbx.ami import Ami
from pbx.calls import CallerScript, place_call
from pbx.process import AsteriskInstance
from runtime.settings import Settings
from speech.audio import inspect
from tests.integration.conftest import ServerFactory
from tests.integration.dialling import dial_many
from tests.support import FixedClock

ROOT = Path(__file__).resolve().parents[2]
# Keys-only transcripts short enough for every CI run (the silent caller takes over 2 min of
# timeouts; the unit tier covers it).
DIALLED = ["lost-card-mandarin", "card-dispute-cantonese", "agent-key-zero",
           "overdue-customer-collections", "loan-account-entry", "after-hours-lost-card",
           "vip-priority", "directory-down", "wrong-keys-get-an-agent", "dispute-status",
           "promise-to-pay"]


def transcript_routes(store: MenuStore, settings_dir: Path, prompts_dir: Path,
                      transcripts: Mapping[str, Transcript]) -> Mapping[str, Route]:
    """The production route, with each call's clock and directory taken from its transcript
    (named by a channel variable set when the test places the call)."""
    events = EventSpool(settings_dir / "spool")

    def route(channel: AgiChannel) -> Outcome:
        transcript = transcripts[channel.get_variable("TRANSCRIPT") or ""]
        services = TranscriptServices.of(transcript)
        return HotlineRoute(store=store, prompts_dir=prompts_dir,
                            messages_dir=settings_dir / "messages",
                            directory=TranscriptDirectory(transcript), events=events,
                            verifier=services.verifier, accounts=services.accounts,
                            clock=FixedClock(transcript.at),
                            # Timed from the menus alone: no live wait announcements.
                            queue_state=no_queue_state)(channel)

    return {"hotline": route}


@pytest.fixture
def shipped_menus(asterisk: AsteriskInstance) -> MenuStore:
    store = MenuStore(asterisk.settings.menus, asterisk.settings.catalog_file)
    assert store.reload().applied
    return store


@pytest.fixture
def agents_outlast_callers(ami: Ami) -> Iterator[None]:
    """Simulated agents who answer talk until the caller hangs up: a call that reached its
    queue ends there, not in the survey after the agent (which these routes do not serve),
    however fast an agent answers."""
    ami.action("Setvar", Variable="AGENT_TALK_S", Value="600")
    yield
    ami.action("Setvar", Variable="AGENT_TALK_S", Value="")


def test_scripted_callers_walk_the_shipped_menus_by_dtmf(
        ami: Ami, start_fastagi: ServerFactory, shipped_menus: MenuStore, durations: dict[str, int],
        asterisk: AsteriskInstance, agents_outlast_callers: None) -> None:
    menus = shipped_menus.current()
    assert menus is not None
    transcripts = {name: load_transcript(ROOT / "menus" / "transcripts" / f"{name}.yaml")
                   for name in DIALLED}
    server = start_fastagi(transcript_routes(shipped_menus, asterisk.settings.runtime_dir,
                                             asterisk.settings.prompts_audio_dir, transcripts))
    planned = {name: plan_and_outcome(menus, name, t, barging=True)
               for name, t in transcripts.items()}
    # Every caller acts when the hotline waits, or presses over the prompt after which it
    # has heard what it needs; in a queue, each stays 5 s after the hotline's last step.
    traces = dial_many(asterisk, ami, transcripts, menus, stay_s=5,
                       plans={name: plan for name, (plan, _outcome) in planned.items()},
                       variables={name: (f"TRANSCRIPT={name}",) for name in transcripts})
    failures = []
    for (name, (plan, expected)), trace in zip(planned.items(), traces, strict=True):
        session = server.sessions.for_call(trace.hotline_id)
        got = session.outcome
        if got is None:
            failures.append(f"{name}: session ended {session.end} ({session.detail})")
            continue
        ended = trace.ended
        checks = {
            "outcome": (ended.get("Outcome"), expected.kind.value),
            "queue": (ended.get("Queue"),
                      expected.queue if isinstance(expected, QueueCall) else ""),
            "intent": (ended.get("Intent"), expected.intent),
            "language": (ended.get("Language"), expected.language),
            "path": (ended.get("Path"), ">".join(expected.path)),
            "menu version": (ended.get("MenuVersion"), menus.version),
            "keys": (trace.keys_received, keys_of(plan)),
        }
        for what, (real, wanted) in checks.items():
            if real != wanted:
                failures.append(f"{name}: {what} {real!r}, expected {wanted!r} (failure "
                                f"{ended.get('Failure')!r}, reason {ended.get('Reason')!r}, "
                                f"queue status {ended.get('QueueStatus')!r})")
    assert not failures, "\n".join(failures)


def write_tiny_menus(folder: Path, priority: int) -> None:
    """One node straight to a queue: short calls for the reload test."""
    line = yaml.safe_load((ROOT / "menus" / "line.yaml").read_text(encoding="utf-8"))
    line["line"].update(entry="transfer", agent="transfer", exhausted="transfer",
                        business_hours={}, contact={}, survey=None,
                        no_agent=None)
    line["queues"] = {"tiny": {"description": "reload test", "recorded": False}}
    line["nodes"] = {"transfer": {"kind": "queue", "queue": "tiny", "intent": "reload-test",
                                  "priority": priority, "prompt": "sys.transfer_agent"}}
    (folder / "line.yaml").write_text(yaml.safe_dump(line, allow_unicode=True),
                                      encoding="utf-8")


@pytest.fixture
def tiny_store(tmp_path: Path, asterisk: AsteriskInstance) -> Iterator[MenuStore]:
    folder = tmp_path / "menus"
    folder.mkdir()
    write_tiny_menus(folder, priority=1)
    store = MenuStore(folder, asterisk.settings.catalog_file)
    assert store.reload().applied
    store.watch(interval_s=0.2)
    yield store
    store.stop_watching()


def tiny_routes(store: MenuStore, settings: Settings,
                prompts_dir: Path | None = None) -> Mapping[str, Route]:
    """The production route over the tiny menus, nobody in the directory."""
    return {"hotline": HotlineRoute(
        store=store, prompts_dir=prompts_dir or settings.prompts_audio_dir,
        messages_dir=settings.messages_dir, directory=InMemoryDirectory([]),
        events=EventSpool(settings.spool_dir))}


def wait_for_version_change(store: MenuStore, old: str | None, timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        current = store.current()
        if current is not None and current.version != old:
            return
        time.sleep(0.1)
    pytest.fail("the watcher did not load the edited menus")


def test_menu_edit_takes_effect_on_the_next_call_and_a_broken_edit_does_not(
        ami: Ami, start_fastagi: ServerFactory, tiny_store: MenuStore, durations: dict[str, int],
        asterisk: AsteriskInstance) -> None:
    start_fastagi(tiny_routes(tiny_store, asterisk.settings))
    caller = CallerScript(keys="", wait_s=0, stay_s=10)  # the transfer prompt lasts ~5 s
    first = place_call(ami, caller)
    assert (first.ended["Priority"], first.ended["Queue"]) == (
        "1", asterisk_queue("tiny", first.ended["Language"])), first.ended
    first_version = first.ended["MenuVersion"]
    before = tiny_store.current()
    assert before is not None and first_version == before.version

    write_tiny_menus(tiny_store.menus_dir, priority=7)
    wait_for_version_change(tiny_store, first_version)
    second = place_call(ami, caller)
    assert second.ended["Priority"] == "7" and second.ended["MenuVersion"] != first_version

    broken = tiny_store.menus_dir / "line.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("queue: tiny", "queue: tin"),
                      encoding="utf-8")
    time.sleep(1.0)  # several watcher passes
    result = tiny_store.reload()
    assert not result.applied and any("unknown queue 'tin'" in p for p in result.problems)
    third = place_call(ami, caller)
    assert third.ended["Priority"] == "7"
    assert third.ended["MenuVersion"] == second.ended["MenuVersion"]


def test_missing_prompt_audio_sends_the_caller_to_a_human(
        ami: Ami, start_fastagi: ServerFactory, tiny_store: MenuStore, tmp_path: Path,
        durations: dict[str, int], asterisk: AsteriskInstance) -> None:
    empty = tmp_path / "no-prompts"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    start_fastagi(tiny_routes(tiny_store, asterisk.settings, prompts_dir=empty))
    trace = place_call(ami, CallerScript(keys="", wait_s=0, stay_s=4))
    assert trace.outcome == "failed" and trace.failure == "route-failed"
    assert "hotline-human" in trace.contexts


def test_the_caller_hears_the_rendered_prompt(
        ami: Ami, start_fastagi: ServerFactory, tiny_store: MenuStore, durations: dict[str, int],
        asterisk: AsteriskInstance) -> None:
    start_fastagi(tiny_routes(tiny_store, asterisk.settings))
    heard = asterisk.settings.runtime_dir / "heard" / "transfer-prompt"
    heard.parent.mkdir(parents=True, exist_ok=True)
    trace = place_call(ami, CallerScript(keys="", wait_s=0, stay_s=8, record_to=str(heard)))
    assert trace.outcome == "queue"
    recording = inspect(heard.with_suffix(".wav"))
    prompt_ms = durations["cmn/sys.transfer_agent"]
    # The caller leg heard at least the whole prompt, and it was speech, not silence.
    assert recording.duration_ms >= prompt_ms
    assert recording.dbfs > -45, recording
