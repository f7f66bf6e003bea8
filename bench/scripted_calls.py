"""Calls on a fixed schedule, for the fault benchmark (bench.faults): `Local/` channels whose
caller leg runs [hotline-scripted-caller] and keeps time by the prompts' nominal lengths,
judged by the hotline leg's HotlineCallEnded event. (The load benchmarks' callers act when
the hotline waits instead: bench.director.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.lab import Lab
from bench.lines import SPEECH_LINE_KEY, evenly, transcripts
from bench.measure import EventLog
from ivr.menu_loader import load_menus
from ivr.outcomes import QueueCall
from pbx.ami import Ami
from pbx.calls import CallerScript, CallTrace, start_call
from pbx.transcript_calls import plan_call

# A queued caller holds this long (an agent answers if one is free). When every agent is busy
# the IVR first says how many wait and for how long and offers a callback (declined here by
# letting its 3 s pass): the plan cannot know that, so the allowance covers it.
QUEUE_STAY_S = 20.0
SPEECH_EVERY = 4  # one caller in SPEECH_EVERY answers by voice on the Korean line
# The Korean test line's words and the Asterisk queues they lead to.
SPOKEN = (("caller/minwon", "complaints-ko"), ("caller/net", "collections-ko"),
          ("caller/sangdamwon", "general-ko"))
AFTER_MENU_S = 0.8
# A caller presses about a second after a prompt ends (the tests' callers press at 0.4 s).
# The scripted caller keeps time by the prompts' nominal lengths and cannot hear that a
# prompt started late on busy cores; a press that lands in a prompt that may not be
# interrupted is ignored, and the rest of the script is then out of step.
CALLER_REACTION_S = 1.0
LOAD_GENERATOR_NICENESS = 15


@dataclass(frozen=True)
class BenchCall:
    key: str  # transcript, or the Korean line
    script: CallerScript
    outcome: str  # expected IVR_OUTCOME
    queue: str  # expected menu queue ("" when the call ends in the IVR)
    duration_s: float


def call_plans(lab: Lab) -> list[BenchCall]:
    """One planned call per dialled transcript, plus the Korean line's spoken answers."""
    menus = load_menus(lab.settings.menus, lab.settings.catalog_file).menus
    assert menus is not None
    plans = []
    for key, transcript in transcripts().items():
        planned = plan_call(menus, transcript, lab.durations_ms,
                            queue_allowance_s=QUEUE_STAY_S, reaction_s=CALLER_REACTION_S)
        outcome = planned.expected.outcome
        assert outcome is not None and planned.expected.passed, key
        queue = outcome.queue if isinstance(outcome, QueueCall) else ""
        plans.append(BenchCall(key, planned.script, outcome.kind.value, queue,
                               planned.duration_s + planned.script.stay_s))
    menu_ends_s = sum(lab.durations_ms[f"ko/{p}"] for p in
                      ("welcome", "compliance.recording_disclosure", "main.menu")) / 1000
    sounds = lab.settings.runtime_dir / "speech-line" / "prompts" / "ko"
    for word, queue in SPOKEN:
        script = CallerScript(steps=((menu_ends_s + AFTER_MENU_S, f"say={word}"),),
                              stay_s=QUEUE_STAY_S + 6, sounds_dir=str(sounds),
                              caller_number="13700000000")
        plans.append(BenchCall(SPEECH_LINE_KEY, script, "queue", queue,
                               menu_ends_s + 6 + script.stay_s))
    return plans


def originate(ami: Ami, plans: list[BenchCall], url: Callable[[str], str], ramp_s: float,
              started_at: list[float] | None = None) -> list[CallTrace]:
    """Start the calls evenly over `ramp_s`; `started_at` gets each one's monotonic time."""
    traces = []
    for _index, plan in evenly(plans, ramp_s):
        script = replace(plan.script, variables=(f"HOTLINE_AGI_URL={url(plan.key)}",))
        traces.append(start_call(ami, script, timeout_s=30))
        if started_at is not None:
            started_at.append(time.monotonic())
    return traces


def wait_all(events: EventLog, traces: list[CallTrace], deadline_s: float) -> None:
    calls = [trace.hotline_id for trace in traces]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and events.ended_count(calls) < len(calls):
        time.sleep(0.5)


def judge(plan: BenchCall, ended: dict[str, str] | None) -> str | None:
    """None when the call went where its transcript says; otherwise what went wrong."""
    if ended is None:
        return "never ended"
    if ended.get("Failure"):
        return f"failure path: {ended['Failure']}"
    outcome, queue = ended.get("Outcome", ""), ended.get("Queue", "")
    # After an agent, the survey's own outcome (hangup) replaces "queue"; the queue stays.
    if queue != plan.queue or outcome not in (
            (plan.outcome,) if plan.outcome != "queue" else ("queue", "hangup")):
        return f"ended {outcome or '-'}/{queue or '-'} not {plan.outcome}/{plan.queue or '-'}"
    return None
