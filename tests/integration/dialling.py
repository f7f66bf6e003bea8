"""Calls the integration tests place through the real menus by DTMF."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from agi.channel import AgiChannel
from agi.hotline_route import HotlineRoute
from agi.menu_store import MenuStore
from bench.local_callers import calls_and_wait
from bench.sip_plans import SipPlan, plan_transcript
from db.spool import EventSpool
from hotline.prompt_commands import build_prompts
from ivr.agents import Agent
from ivr.menu_loader import MenuSet
from ivr.outcomes import Outcome
from ivr.transcripts import (
    Transcript,
    TranscriptDirectory,
    TranscriptServices,
    load_transcript,
)
from pbx.ami import Ami, Event
from pbx.calls import CallerScript, CallTrace, finish_call
from pbx.process import AsteriskInstance
from runtime.settings import Settings
from tests.integration.conftest import ServerFactory
from tests.support import FixedClock

ROOT = Path(__file__).resolve().parents[2]
SCRIPTED_CALLER_NUMBER = CallerScript.caller_number  # what the tests' callers show


def agent_answered(ami: Ami, call_id: str, timeout_s: float = 30) -> Event:
    """The simulated agent's AgentAnswered event for the call: the SCREEN_* it inherited."""
    return ami.wait_for(lambda e: e.get("UserEvent") == "AgentAnswered"
                        and e.get("Call") == call_id, timeout_s)


def rendered_durations(settings: Settings) -> dict[str, int]:
    """Build the prompts (incremental) and return each one's length: "<lang>/<id>" -> ms."""
    report = build_prompts(settings, quiet=True)
    assert not report.problems, report.problems
    manifest = json.loads((settings.prompts_audio_dir / "manifest.json").read_text())
    return {key: int(entry["duration_ms"]) for key, entry in manifest.items()}


def transcript_route(settings: Settings, store: MenuStore, transcript: Transcript,
                     **options: Any) -> Callable[[AgiChannel], Outcome]:
    """The production route with the transcript's clock and customers (`options`: more
    HotlineRoute fields, e.g. agents)."""

    def route(channel: AgiChannel) -> Outcome:
        services = TranscriptServices.of(transcript)
        return HotlineRoute(store=store, prompts_dir=settings.prompts_audio_dir,
                            messages_dir=settings.messages_dir,
                            directory=TranscriptDirectory(transcript),
                            verifier=services.verifier, accounts=services.accounts,
                            events=EventSpool(settings.spool_dir),
                            clock=FixedClock(transcript.at), **options)(channel)

    return route


def dial_cantonese_dispute(ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance,
                           menus: MenuSet, agents: list[Agent], stay_s: float,
                           serve: bool = True) -> CallTrace:
    """The Cantonese dispute transcript through the real menus by DTMF, with live queues.
    `serve`: start the FastAGI server (not again for a test's second call)."""
    return dial_transcript("card-dispute-cantonese", ami, start_fastagi, asterisk, menus,
                           agents, stay_s, serve)


def dial_transcript(name: str, ami: Ami, start_fastagi: ServerFactory,
                    asterisk: AsteriskInstance, menus: MenuSet, agents: list[Agent],
                    stay_s: float, serve: bool = True) -> CallTrace:
    """A shipped keys-only transcript through the real menus, with live queues and agents."""
    settings = asterisk.settings
    rendered_durations(settings)  # the prompts built
    transcript = load_transcript(ROOT / "menus" / "transcripts" / f"{name}.yaml")
    store = MenuStore(settings.menus, settings.catalog_file)
    assert store.reload().applied
    if serve:
        start_fastagi({"hotline": transcript_route(settings, store, transcript,
                                                   agents=agents)})
    return dial(asterisk, ami, menus, name, transcript, stay_s)


def dial(asterisk: AsteriskInstance, ami: Ami, menus: MenuSet, name: str,
         transcript: Transcript, stay_s: float, plan: SipPlan | None = None,
         sounds_dir: Path | None = None) -> CallTrace:
    """One call by the transcript's caller through the FastAGI server the test serves, traced
    from `ami`'s events. `plan`: the turns, when the test changes them; `sounds_dir`: where
    the plan's spoken or played sounds are."""
    return dial_many(asterisk, ami, {name: transcript}, menus, stay_s,
                     plans=None if plan is None else {name: plan}, sounds_dir=sounds_dir)[0]


def dial_many(asterisk: AsteriskInstance, ami: Ami, transcripts: Mapping[str, Transcript],
              menus: MenuSet, stay_s: float, plans: Mapping[str, SipPlan] | None = None,
              variables: Mapping[str, tuple[str, ...]] | None = None,
              sounds_dir: Path | None = None) -> list[CallTrace]:
    """The transcripts' calls at once. Each caller knows the menus: presses over a menu's
    prompt once it has heard what it needs, or when the hotline waits — as Asterisk's events
    show it, not on a schedule of nominal prompt lengths, which a busy machine overruns; in
    a queue, or silent, they stay `stay_s` after the hotline's last step."""
    chosen = [(plans or {}).get(name) or replace(
        plan_transcript(menus, name, transcript, barging=True),
        caller_number=transcript.caller_number or SCRIPTED_CALLER_NUMBER)
        for name, transcript in transcripts.items()]
    hotlines = calls_and_wait(
        asterisk.ami, chosen, patience_s=stay_s, timeout_s=150 + 30 * len(chosen),
        sounds_dir=sounds_dir or Path("/nonexistent"),
        variables=[(variables or {}).get(name, ()) for name in transcripts])
    return [finish_call(ami, CallTrace(hotline_id=hotline,
                                       caller_id=hotline.replace("hotline-", "caller-", 1)),
                        timeout_s=30) for hotline in hotlines]


def answer_prompts(ami: Ami, trace: CallTrace, answers: list[tuple[str, str]],
                   timeout_s: float = 60) -> None:
    """A caller who listens before pressing: for each (prompt, keys), wait until the hotline
    starts playing that prompt on this call — "<language>/<prompt id>", so the language is
    checked too — then press the keys (AMI PlayDTMF on the caller's leg). Nothing is timed:
    a slow machine only makes the call longer."""
    leg = ami.wait_for(lambda e: e.get("Event") == "Newchannel"
                       and e.get("Uniqueid") == trace.caller_id, 30)["Channel"]
    heard: set[str] = set()
    for prompt, keys in answers:
        language, prompt_id = prompt.split("/", 1)
        wanted = f'/prompts/{language}/{prompt_id.replace(".", "/")}"'
        started = ami.wait_for(functools.partial(_starts_playing, trace, wanted, heard),
                               timeout_s)
        heard.add(started.get("CommandId", ""))
        for key in keys:
            ami.action("PlayDTMF", Channel=leg, Digit=key, Duration="200")


def _starts_playing(trace: CallTrace, wanted: str, heard: set[str], event: Event) -> bool:
    return (event.get("Event") == "AGIExecStart" and event.get("Uniqueid") == trace.hotline_id
            and wanted in event.get("Command", "") and event.get("CommandId") not in heard)


def spooled(settings: Settings, call_id: str, kind: str) -> list[dict[str, Any]]:
    """The events of `kind` the IVR spooled for the call."""
    found = []
    for record in EventSpool(settings.spool_dir).read_all():
        data = record.get("data")
        if record.get("call_id") == call_id and record.get("kind") == kind \
                and isinstance(data, dict):
            found.append(data)
    return found
