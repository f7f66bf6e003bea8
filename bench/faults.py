"""Faults under load through real Asterisk: while N callers walk the shipped menus (by keys,
and the Korean line by voice), one thing breaks, then comes back:

- fastagi-killed     the FastAGI server gets SIGKILL; the keeper (services/keeper.py, the
                     same code `hotline up` runs) starts it again
- speech-killed      the speech service gets SIGKILL; the keeper starts it again
- database-stopped   PostgreSQL stops for `--outage-s`, then starts (a DBA's job: nothing
                     here may need more than that)
- recordings-disk-full  the recordings filesystem (a tmpfs of its own) fills up for
                     `--outage-s`, then space is freed

    .venv/bin/python -m bench.faults [--calls 100] [--only fastagi-killed,...]

Needs root (the recordings volume is a tmpfs). Each scenario reports, for its calls: how
many ended as their transcript says, on a human (a queue, the fallback after a failure),
with a clean goodbye, or lost (never ended, or left in dead air); call records and
recordings written (the records service, after the spool's replay); integrity of every
recording stored so far (sha256 as registered: nothing already written lost); how long the
broken part took to come back, and whether calls started after it completed as planned.
The run fails (exit 1) when a call or a record is lost.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.director import Director
from bench.lab import BenchAgiService, Lab, open_lab, wait_for_records
from bench.lines import SPEECH_STREAM_KEY, evenly, mix
from bench.local_callers import LocalCallers
from bench.measure import EventLog
from bench.sip_load import RUN_LIMIT_S, director_waits, judge
from bench.sip_plans import SipPlan, sip_plans
from db.models import Call
from db.recordings import verify
from ivr.menu_loader import load_menus
from pbx.ami import Event
from runtime.host import accepts
from services.keeper import Keeper
from services.processes import BackgroundService

console = Console(width=200)
app = typer.Typer(add_completion=False)

SCENARIOS = ("fastagi-killed", "speech-killed", "database-stopped", "recordings-disk-full")
RECORDINGS_VOLUME_MB = 1024
SPEECH_EVERY = 4  # one caller in SPEECH_EVERY answers by voice on the Korean line
# A caller hangs up this long after the hotline last spoke to them or asked them anything:
# in a queue (an agent answers if one is free), or left in silence.
PATIENCE_S = 30.0
LOAD_GENERATOR_NICENESS = 15


@dataclass
class Fault:
    """When the fault struck and when the broken part was back (monotonic seconds)."""

    struck_at: float | None = None
    recovered_at: float | None = None
    note: str = ""

    @property
    def recovery_s(self) -> float | None:
        if self.struck_at is None or self.recovered_at is None:
            return None
        return self.recovered_at - self.struck_at


@dataclass
class FaultResult:
    scenario: str
    calls: int
    as_planned: int = 0
    to_human: int = 0
    clean_goodbye: int = 0
    lost: int = 0
    lost_how: dict[str, int] = field(default_factory=dict)
    records_written: int = 0
    recordings_expected: int = 0  # calls whose dialplan started a recording
    recordings: dict[str, int] = field(default_factory=dict)  # status -> count
    integrity_problems: int = 0
    recovery_s: float | None = None
    after_recovery: int = 0  # calls started once the part was back
    after_recovery_as_planned: int = 0
    note: str = ""

    @property
    def passed(self) -> bool:
        # "missing" would be a file lost after it was written; "empty" holds no audio (a call
        # that ended at the disclosure) but is registered like any other.
        registered = self.recordings.get("stored", 0) + self.recordings.get("empty", 0)
        return (self.lost == 0 and self.records_written == self.calls
                and registered == self.recordings_expected and self.integrity_problems == 0
                and self.recovery_s is not None
                and self.after_recovery_as_planned == self.after_recovery)


def classify(plan: SipPlan, record: Call | None, caller_gave_up: bool, ended: Event | None,
             joined_queue: str | None) -> str:
    """as-planned (by the call's record) | human | goodbye | lost:<how>."""
    if ended is None:
        return "lost:never ended"
    if judge(plan, record, caller_gave_up) is None:
        return "as-planned"
    if joined_queue:
        return "human"  # a queue took the caller: the fallback after a failure, or another
    if ended.get("Outcome") == "hangup" and not ended.get("Failure"):
        return "goodbye"
    return f"lost:{ended.get('Failure') or ended.get('AgiStatus') or 'no outcome'}"


def wait_until(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def kill_and_wait(service: BackgroundService, fault: Fault) -> None:
    pid = service.pid()
    if pid is None:
        fault.note = f"{service.name} was not running"
        return
    os.kill(pid, signal.SIGKILL)
    fault.struck_at = time.monotonic()
    back = wait_until(lambda: service.pid() not in (None, pid)
                      and accepts(service.settings.agi_host, service.port or 0), 120)
    if back:
        fault.recovered_at = time.monotonic()


def stop_database(lab: Lab, fault: Fault, outage_s: float) -> None:
    lab.postgres.stop(mode="immediate")
    fault.struck_at = time.monotonic()
    time.sleep(outage_s)
    lab.postgres.start()
    fault.recovered_at = time.monotonic()


def fill_recordings_disk(lab: Lab, fault: Fault, outage_s: float) -> None:
    """Fill the recordings volume to the last byte, hold, then free the space."""
    if lab.recordings_volume is None:
        fault.note = "no recordings volume"
        return
    filler = lab.recordings_volume / "filler.bin"
    chunk = b"\0" * (1 << 20)
    try:
        with filler.open("wb") as out:
            while True:
                out.write(chunk)
                out.flush()
    except OSError:
        pass  # ENOSPC: full, which is the point
    fault.struck_at = time.monotonic()
    stat = os.statvfs(lab.recordings_volume)
    fault.note = f"{stat.f_bavail * stat.f_frsize // 1024} KB left"
    time.sleep(outage_s)
    filler.unlink()
    fault.recovered_at = time.monotonic()


def inject(lab: Lab, scenario: str, fault: Fault, outage_s: float) -> None:
    assert lab.fastagi is not None and lab.speech is not None
    # This thread restarts PostgreSQL, which must not inherit the load generator's niceness.
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    if scenario == "fastagi-killed":
        kill_and_wait(lab.fastagi, fault)
    elif scenario == "speech-killed":
        kill_and_wait(lab.speech, fault)
    elif scenario == "database-stopped":
        stop_database(lab, fault, outage_s)
    elif scenario == "recordings-disk-full":
        fill_recordings_disk(lab, fault, outage_s)


def fault_plans(lab: Lab) -> list[SipPlan]:
    """The load benchmark's callers: the keys transcripts, and the Korean line whose answers
    are recorded (a voice caller whose speech breaks under them waits through the IVR's
    keys-only retries to an agent)."""
    menus = load_menus(lab.settings.menus, lab.settings.catalog_file).menus
    assert menus is not None
    return [plan for plan in sip_plans(menus, lab.durations_ms["ko/main.menu"])
            if plan.key != SPEECH_STREAM_KEY]


def run_scenario(lab: Lab, scenario: str, count: int, outage_s: float) -> FaultResult:
    plans = mix(fault_plans(lab), count, SPEECH_EVERY)
    # Calls start over the whole ramp; the fault strikes a quarter of the way in and is
    # over well before the last calls start, so some calls meet it and some come after.
    ramp_s = max(outage_s * 3, 45.0, count / 5)
    fault = Fault()
    started_at: list[float] = []
    # Callers act when the hotline waits for them (bench.director), as in the load
    # benchmark: a hotline slowed by the fault shows as a longer call, not a caller out of
    # step with it.
    director = Director(plans, {}, PATIENCE_S)
    with lab.ami() as event_ami, lab.ami() as act_ami:
        act_ami.only_events("off")  # it only acts
        line = LocalCallers(director, act_ami,
                            lab.settings.runtime_dir / "speech-line" / "prompts" / "ko")
        events = EventLog(event_ami, line.and_then(director.on_event)).start()
        director.start(line)
        striker = threading.Timer(ramp_s / 4, inject, (lab, scenario, fault, outage_s))
        striker.start()
        try:
            calls = []
            for index, plan in evenly(plans, ramp_s):
                calls.append(line.place(index, plan, lab.fastagi_url(plan.key)))
                started_at.append(time.monotonic())
            striker.join()
            director_waits(director, len(plans), RUN_LIMIT_S, lambda: True)
        finally:
            director.stop()
            events.stop()
    result = FaultResult(scenario, len(plans), recovery_s=fault.recovery_s, note=fault.note)
    settle(lab, calls, result)
    with Session(lab.engine) as db:
        records = {call.call_id: call for call in db.scalars(
            select(Call).where(Call.call_id.in_(calls)))}
    kinds: Counter[str] = Counter()
    for caller, call, at in zip(director.callers, calls, started_at, strict=True):
        kind = classify(caller.plan, records.get(call), caller.hung_up_by_caller,
                        events.ended.get(call), events.joined.get(call))
        kinds[kind] += 1
        if fault.recovered_at is not None and at > fault.recovered_at + 1:
            result.after_recovery += 1
            result.after_recovery_as_planned += kind == "as-planned"
    result.as_planned, result.to_human = kinds["as-planned"], kinds["human"]
    result.clean_goodbye = kinds["goodbye"]
    result.lost_how = {k.split(":", 1)[1]: n for k, n in kinds.items() if k.startswith("lost:")}
    result.lost = sum(result.lost_how.values())
    result.recordings_expected = sum(
        1 for call in calls if events.ended.get(call, {}).get("Recording"))
    return result


def settle(lab: Lab, calls: list[str], result: FaultResult, wait_s: float = 120.0) -> None:
    """Wait for the records service to write every call and register its recording, then
    check every recording stored so far against its registered checksum."""
    seen = wait_for_records(lab, calls, wait_s)
    result.records_written = seen.written
    result.recordings = seen.recordings
    with Session(lab.engine) as db:
        result.integrity_problems = len(verify(db))


def keep_services(lab: Lab) -> tuple[Keeper, threading.Thread]:
    """The production keeper, watching the benchmark's services."""
    assert lab.fastagi and lab.speech and lab.records
    keeper = Keeper([lab.fastagi, lab.speech, lab.records],
                    lab.settings.run_dir / "keeper.json")
    thread = threading.Thread(target=keeper.run, name="bench-keeper", daemon=True)
    thread.start()
    return keeper, thread


def print_results(results: list[FaultResult]) -> None:
    table = Table(title="Faults under load through real Asterisk")
    for column in ("fault", "calls", "as planned", "to a human", "goodbye", "lost",
                   "records", "recordings (status)", "integrity", "back after s",
                   "after: as planned", "verdict"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r.scenario, str(r.calls), str(r.as_planned), str(r.to_human),
                      str(r.clean_goodbye), str(r.lost), f"{r.records_written}/{r.calls}",
                      " ".join(f"{k} {v}" for k, v in sorted(r.recordings.items()))
                      + f" of {r.recordings_expected}",
                      "ok" if r.integrity_problems == 0 else f"{r.integrity_problems} bad",
                      "-" if r.recovery_s is None else f"{r.recovery_s:.1f}",
                      f"{r.after_recovery_as_planned}/{r.after_recovery}",
                      "[green]pass[/]" if r.passed else "[red]FAIL[/]")
    console.print(table)
    for r in results:
        if r.lost_how or r.note:
            lost = f"lost: {r.lost_how}" if r.lost_how else ""
            console.print(f"{r.scenario}: {r.note} {lost}")


@app.command()
def main(calls: int = typer.Option(100, help="Calls per scenario."),
         only: str = typer.Option(",".join(SCENARIOS), help="Scenarios, comma-separated."),
         outage_s: float = typer.Option(15.0, help="How long the database or the disk stays "
                                        "broken."),
         agents: int = typer.Option(40, help="Simulated agents answering.")) -> None:
    # The keeper's restarts, with their times, among the progress lines.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    chosen = [s.strip() for s in only.split(",") if s.strip()]
    if not chosen or not set(chosen) <= set(SCENARIOS):
        raise typer.BadParameter(f"scenarios: {', '.join(SCENARIOS)}")
    with console.status("starting Asterisk, PostgreSQL, speech and records services…"):
        lab = open_lab(agents, recordings_volume_mb=RECORDINGS_VOLUME_MB)
        lab.fastagi = BenchAgiService(lab.settings)
        lab.fastagi.up()
    keeper, thread = keep_services(lab)
    os.nice(LOAD_GENERATOR_NICENESS)  # as the load generator: from here on, this thread yields
    results = []
    try:
        for scenario in chosen:
            console.print(f"[bold]{scenario}[/] under {calls} calls…")
            lab.free_agents()
            lab.forget_verifications()
            results.append(run_scenario(lab, scenario, calls, outage_s))
            time.sleep(3)
    finally:
        keeper.stop()
        thread.join(10)
        lab.stop()
    print_results(results)
    if not all(r.passed for r in results):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
