"""Load benchmark through real Asterisk: N concurrent callers walk the shipped menus by keys
(and the Korean test line by voice), simulated agents answer, and the same load runs through
the FastAGI server and through classic process-per-call AGI() in the same run.

    .venv/bin/python -m bench.load [--calls 10,50,100,200,400] [--modes fastagi,classic]

Prints one row per mode and N: calls completed and failed, peak calls in the IVR at once,
AGI step overhead and session start p50/p99, caller input to next prompt p50/p99 (keys,
voice), CPU and peak memory of the AGI program(s), the speech service and Asterisk; then the
classic/FastAGI ratios. Results are also written to var/bench/results-<time>.json.
A call is completed when it ended where its transcript says (outcome and queue), with no
failure path taken. See docs/benchmarks.md for recorded figures.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from bench.lab import BENCH_DIR, BenchAgiService, Lab, open_lab, wait_for_records
from bench.lines import SPEECH_LINE_KEY, mix, transcripts
from bench.measure import (
    EventLog,
    ProcessSampler,
    Usage,
    is_postgres,
    peak_overlap,
    percentile,
    timings,
)
from ivr.menu_loader import load_menus
from ivr.outcomes import QueueCall
from pbx.ami import Ami
from pbx.calls import CallerScript, CallTrace, start_call
from pbx.transcript_calls import plan_call

console = Console(width=220)
app = typer.Typer(add_completion=False)

# A queued caller holds this long (an agent answers if one is free). When every agent is busy
# the IVR first says how many wait and for how long and offers a callback (declined here by
# letting its 3 s pass): the plan cannot know that, so the allowance covers it.
QUEUE_STAY_S = 20.0
SPEECH_EVERY = 4  # one caller in SPEECH_EVERY answers by voice on the Korean line
# The Korean line: (word the caller says, queue it leads to)
# The Korean test line's words and the Asterisk queues they lead to.
SPOKEN = (("caller/minwon", "complaints-ko"), ("caller/net", "collections-ko"),
          ("caller/sangdamwon", "general-ko"))
AFTER_MENU_S = 0.8
# A caller presses about a second after a prompt ends (the tests' callers press at 0.4 s).
# The scripted caller keeps time by the prompts' nominal lengths and cannot hear that a
# prompt started late on busy cores; a press that lands in a prompt that may not be
# interrupted is ignored, and the rest of the script is then out of step.
CALLER_REACTION_S = 1.0
CLASSIC_MARKER = b"bench.agi\x00classic"
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


@dataclass
class RunResult:
    mode: str
    calls: int
    completed: int
    failed: int
    failures: dict[str, int]
    peak_in_ivr: int
    step_p50_ms: float | None
    step_p99_ms: float | None
    start_p50_ms: float | None
    start_p99_ms: float | None
    keys_p50_ms: float | None
    keys_p99_ms: float | None
    voice_p50_ms: float | None
    voice_p99_ms: float | None
    agi_cpu_percent: float  # of one core: average over the run / busiest 3 s
    agi_cpu_peak_percent: float
    agi_cpu_ms_per_call: float
    agi_rss_mb: float
    speech_cpu_percent: float
    speech_cpu_peak_percent: float
    speech_rss_mb: float
    asterisk_cpu_percent: float
    asterisk_cpu_peak_percent: float
    records_cpu_peak_percent: float  # the records service (AMI events, spool, database)
    database_cpu_peak_percent: float  # PostgreSQL: its server and every backend
    bench_cpu_peak_percent: float  # this load generator, on the same 2 cores
    agents_answered: int
    records_written: int
    recordings_registered: int
    failure_examples: list[str]


def run_load(lab: Lab, mode: str, count: int, ramp_s: float | None = None) -> RunResult:
    plans = mix(call_plans(lab), count, SPEECH_EVERY)
    url = lab.fastagi_url if mode == "fastagi" else lab.classic_url
    ramp_s = ramp_s if ramp_s is not None else max(2.0, count / 20)
    agi_pid = lab.fastagi.pid() if lab.fastagi and mode == "fastagi" else None
    assert lab.speech is not None
    asterisk_pid = lab.asterisk.status().pid
    assert asterisk_pid is not None
    sampler = ProcessSampler(
        {"agi": agi_pid, "speech": lab.speech.pid(), "asterisk": asterisk_pid,
         "records": lab.records.pid() if lab.records else None, "bench": os.getpid()},
        {"classic": (CLASSIC_MARKER, asterisk_pid)} if mode == "classic" else {},
        groups={"database": is_postgres})
    with lab.ami() as event_ami, lab.ami() as dial_ami:
        dial_ami.only_events("off")  # it only originates
        events = EventLog(event_ami).start()
        sampler.start()
        traces = originate(dial_ami, plans, url, ramp_s)
        longest_s = max(p.duration_s for p in plans)
        wait_all(events, traces, deadline_s=ramp_s + longest_s + 90)
        usage = sampler.stop()
        events.stop()
    return summarise(lab, mode, plans, traces, events, usage, sampler)


def originate(ami: Ami, plans: list[BenchCall], url: Callable[[str], str], ramp_s: float,
              started_at: list[float] | None = None) -> list[CallTrace]:
    """Start the calls evenly over `ramp_s`; `started_at` gets each one's monotonic time."""
    traces = []
    started = time.monotonic()
    for index, plan in enumerate(plans):
        due = started + ramp_s * index / max(1, len(plans))
        time.sleep(max(0.0, due - time.monotonic()))
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


def summarise(lab: Lab, mode: str, plans: list[BenchCall], traces: list[CallTrace],
              events: EventLog, usage: dict[str, Usage], sampler: ProcessSampler) -> RunResult:
    failures: dict[str, int] = {}
    examples: list[str] = []
    completed = 0
    for plan, trace in zip(plans, traces, strict=True):
        ended = events.ended.get(trace.hotline_id)
        problem = judge(plan, ended)
        if problem is None:
            completed += 1
        else:
            failures[problem] = failures.get(problem, 0) + 1
            examples.append(failure_example(plan, trace.hotline_id, events))
    ids = [trace.hotline_id for trace in traces]
    found = timings(s for call in ids for s in events.sessions.get(call, []))
    seen = wait_for_records(lab, ids, wait_s=60.0)
    written, registered = seen.written, seen.recordings.get("stored", 0)
    agi = usage["agi"] if mode == "fastagi" else usage["classic"]

    def p(values: list[float], fraction: float) -> float | None:
        value = percentile(values, fraction)
        return None if value is None else round(value, 1)

    return RunResult(
        mode=mode, calls=len(plans), completed=completed, failed=len(plans) - completed,
        failures=failures, peak_in_ivr=peak_overlap(found.ivr_spans),
        step_p50_ms=p(found.step_ms, 0.5), step_p99_ms=p(found.step_ms, 0.99),
        start_p50_ms=p(found.session_start_ms, 0.5),
        start_p99_ms=p(found.session_start_ms, 0.99),
        keys_p50_ms=p(found.keys_to_prompt_ms, 0.5),
        keys_p99_ms=p(found.keys_to_prompt_ms, 0.99),
        voice_p50_ms=p(found.voice_to_prompt_ms, 0.5),
        voice_p99_ms=p(found.voice_to_prompt_ms, 0.99),
        agi_cpu_percent=round(agi.cpu_percent, 1),
        agi_cpu_peak_percent=round(agi.peak_cpu_percent, 1),
        agi_cpu_ms_per_call=round(1000 * agi.cpu_s / max(1, len(plans)), 1),
        agi_rss_mb=round(agi.peak_rss_mb, 1),
        speech_cpu_percent=round(usage["speech"].cpu_percent, 1),
        speech_cpu_peak_percent=round(usage["speech"].peak_cpu_percent, 1),
        speech_rss_mb=round(usage["speech"].peak_rss_mb, 1),
        asterisk_cpu_percent=round(usage["asterisk"].cpu_percent, 1),
        asterisk_cpu_peak_percent=round(usage["asterisk"].peak_cpu_percent, 1),
        records_cpu_peak_percent=round(usage["records"].peak_cpu_percent, 1),
        database_cpu_peak_percent=round(usage["database"].peak_cpu_percent, 1),
        bench_cpu_peak_percent=round(usage["bench"].peak_cpu_percent, 1),
        agents_answered=sum(1 for call in ids if call in events.answered),
        records_written=written, recordings_registered=registered,
        failure_examples=examples[:8])


def failure_example(plan: BenchCall, call: str, events: EventLog) -> str:
    """What a failed call did, from Asterisk's events: to see why, without a debugger."""
    ended = events.ended.get(call, {})
    sessions = events.sessions.get(call, [])
    commands = [c for session in sessions for c in session.commands]
    keys = sum(len(session.keys) for session in sessions)
    last = ", ".join(f"{verb}={result}" for _s, _e, verb, result in commands[-3:])
    timing = ""
    if sessions and commands:
        begun = sessions[0].started
        pressed = " ".join(f"{at - begun:.1f}" for s in sessions for at in s.keys)
        timing = (f" in the IVR {commands[-1][1] - begun:.1f} s (planned call "
                  f"{plan.duration_s:.1f} s), keys at [{pressed}] s")
    return (f"{plan.key}: AgiStatus={ended.get('AgiStatus', '-')} "
            f"Failure={ended.get('Failure') or '-'} sessions={len(sessions)} "
            f"commands={len(commands)} keys={keys}{timing} last: {last}")


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


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def print_results(results: list[RunResult]) -> None:
    table = Table(title="Load through real Asterisk (ms; CPU % of one core; MB)")
    for column in ("mode", "N", "done", "failed", "in IVR", "step p50", "step p99",
                   "start p50", "start p99", "keys→prompt p50/p99", "voice→prompt p50/p99",
                   "AGI CPU avg/peak", "AGI CPU ms/call", "AGI MB", "speech CPU avg/peak",
                   "speech MB", "Asterisk CPU avg/peak", "records CPU peak",
                   "database CPU peak",
                   "load generator CPU peak",
                   "agent took", "records"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r.mode, str(r.calls), str(r.completed), str(r.failed),
                      str(r.peak_in_ivr), fmt(r.step_p50_ms), fmt(r.step_p99_ms),
                      fmt(r.start_p50_ms), fmt(r.start_p99_ms),
                      f"{fmt(r.keys_p50_ms)}/{fmt(r.keys_p99_ms)}",
                      f"{fmt(r.voice_p50_ms)}/{fmt(r.voice_p99_ms)}",
                      f"{fmt(r.agi_cpu_percent)}/{fmt(r.agi_cpu_peak_percent)}",
                      fmt(r.agi_cpu_ms_per_call), fmt(r.agi_rss_mb),
                      f"{fmt(r.speech_cpu_percent)}/{fmt(r.speech_cpu_peak_percent)}",
                      fmt(r.speech_rss_mb),
                      f"{fmt(r.asterisk_cpu_percent)}/{fmt(r.asterisk_cpu_peak_percent)}",
                      fmt(r.records_cpu_peak_percent), fmt(r.database_cpu_peak_percent),
                      fmt(r.bench_cpu_peak_percent),
                      str(r.agents_answered),
                      f"{r.records_written}/{r.recordings_registered}")
    console.print(table)
    for r in results:
        if r.failures:
            console.print(f"{r.mode} N={r.calls} failures: {r.failures}")
            for example in r.failure_examples:
                console.print(f"    {example}", highlight=False)
    print_ratios(results)


def print_ratios(results: list[RunResult]) -> None:
    by_key = {(r.mode, r.calls): r for r in results}
    rows = [(n, by_key[("classic", n)], r) for (mode, n), r in by_key.items()
            if mode == "fastagi" and ("classic", n) in by_key]
    if not rows:
        return
    table = Table(title="Classic AGI() / FastAGI (how many times more)")
    for column in ("N", "step p99", "start p50", "start p99", "AGI CPU per call", "AGI MB",
                   "failed (classic - fastagi)"):
        table.add_column(column, justify="right")

    def ratio(a: float | None, b: float | None) -> str:
        return "-" if not a or not b else f"{a / b:.1f}×"

    for n, classic, fast in sorted(rows, key=lambda row: row[0]):
        table.add_row(str(n), ratio(classic.step_p99_ms, fast.step_p99_ms),
                      ratio(classic.start_p50_ms, fast.start_p50_ms),
                      ratio(classic.start_p99_ms, fast.start_p99_ms),
                      ratio(classic.agi_cpu_ms_per_call, fast.agi_cpu_ms_per_call),
                      ratio(classic.agi_rss_mb, fast.agi_rss_mb),
                      str(classic.failed - fast.failed))
    console.print(table)


def run_series(lab: Lab, counts: list[int], modes: list[str],
               classic_max: int) -> list[RunResult]:
    results = []
    for count in counts:
        for mode in modes:
            if mode == "classic" and count > classic_max:
                # ~75 MB per Python AGI process, one per call in the IVR: 400 of them would
                # need more memory than the machine has (the figures at lower N show it).
                console.print(f"classic with {count} calls: skipped (--classic-max "
                              f"{classic_max}: one Python process per call)")
                continue
            if mode == "fastagi":
                lab.fastagi = lab.fastagi or BenchAgiService(lab.settings)
                lab.fastagi.up()
            elif lab.fastagi is not None:
                lab.fastagi.down()  # nothing else listens: classic AGI() is on its own
            console.print(f"[bold]{mode}[/] with {count} calls…")
            lab.free_agents()
            results.append(run_load(lab, mode, count))
            time.sleep(3)  # agents' last calls and survey prompts end
    return results


@app.command()
def main(calls: str = typer.Option("10,50,100,200,400", help="Concurrent calls per run."),
         modes: str = typer.Option("fastagi,classic", help="fastagi, classic or both."),
         agents: int = typer.Option(40, help="Simulated agents answering."),
         classic_max: int = typer.Option(200, help="Largest N for classic AGI() (a Python "
                                         "process per call: ~75 MB each).")) -> None:
    counts = [int(c) for c in calls.split(",") if c.strip()]
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    if not set(chosen) <= {"fastagi", "classic"} or not counts:
        raise typer.BadParameter("modes are fastagi and classic; calls a list of numbers")
    with console.status("starting Asterisk, PostgreSQL, speech and records services…"):
        lab = open_lab(agents)
    # The load generator shares the 2 cores with the hotline: it yields to it. (Linux
    # niceness is per thread: threads started from here on inherit it, services are set.)
    os.nice(LOAD_GENERATOR_NICENESS)
    try:
        results = run_series(lab, counts, chosen, classic_max)
    finally:
        lab.stop()
    print_results(results)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = BENCH_DIR / f"results-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps([asdict(r) for r in results], indent=2))
    console.print(f"results: {out}")


if __name__ == "__main__":
    app()
