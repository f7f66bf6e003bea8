"""The benchmarks' arithmetic: AGI step overhead and input-to-prompt from Asterisk's events,
percentiles, peak concurrency, and how a fault run judges a call."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bench.faults import classify
from bench.measure import (
    AgiSession,
    EventLog,
    ProcessSampler,
    is_postgres,
    peak_overlap,
    percentile,
    timings,
)
from bench.sip_plans import SipPlan
from db.models import Call


class NoAmi:
    """EventLog's AMI connection, never read: events are fed to `_take` directly."""


def event(name: str, at: float, call: str = "c1", **fields: str) -> dict[str, str]:
    return {"Event": name, "Timestamp": f"{at:.6f}", "Uniqueid": call, **fields}


def test_steps_exclude_recordings_and_keys_are_timed_to_the_next_prompt() -> None:
    log = EventLog(NoAmi())  # type: ignore[arg-type]
    feed = [
        event("Newexten", 100.000, Application="AGI"),
        event("AGIExecStart", 100.004, CommandId="1", Command="STREAM FILE welcome \"\""),
        event("AGIExecEnd", 102.000, CommandId="1", Result="Success"),
        event("AGIExecStart", 102.002, CommandId="2", Command="WAIT FOR DIGIT 5000"),
        event("DTMFEnd", 103.000, Direction="Received", Digit="1"),
        event("AGIExecEnd", 103.001, CommandId="2", Result="Success"),
        event("AGIExecStart", 103.011, CommandId="3", Command="RECORD FILE x wav"),
        event("AGIExecEnd", 106.000, CommandId="3", Result="Success"),
        event("AGIExecStart", 106.300, CommandId="4", Command="STREAM FILE next \"\""),
        event("AGIExecEnd", 107.000, CommandId="4", Result="Success"),
        event("UserEvent", 108.0, UserEvent="HotlineCallEnded", Outcome="queue"),
        event("QueueCallerJoin", 108.5, Queue="general-ko"),
    ]
    for item in feed:
        log._take(item)
    assert log.ended["c1"]["Outcome"] == "queue" and log.joined["c1"] == "general-ko"
    found = timings(log.sessions["c1"])
    assert found.session_start_ms == pytest.approx([4.0])
    # 2 ms after the prompt, 10 ms after the key wait; the recognition gap is not a step.
    assert found.step_ms == pytest.approx([2.0, 10.0])
    assert found.voice_to_prompt_ms == pytest.approx([300.0])
    assert found.keys_to_prompt_ms == pytest.approx([3300.0])  # key at 103.0, prompt 106.3
    assert found.ivr_spans == [(100.0, 107.0)]


def test_the_step_that_checks_a_secret_is_a_figure_of_its_own() -> None:
    """The verify node asks for the PIN with the recording paused; the step after it resumes
    is the argon2id check (~0.2 s by design): counted as a secret check, not an AGI step.
    A sensitive number that is no secret (an account) leaves its steps as they are."""
    log = EventLog(NoAmi())  # type: ignore[arg-type]
    commands = [
        ('GOSUB "hotline-recording" "pause" "1"', 0.002),
        ('STREAM FILE "/p/cmn/loans/enter_account" ""', 0.003),  # an account: no secret
        ('GOSUB "hotline-recording" "resume" "1"', 0.004),
        ('GOSUB "hotline-recording" "pause" "1"', 0.005),  # the lookup took 5 ms
        ('STREAM FILE "/p/cmn/verify/pin" ""', 0.002),
        ('GET DATA "silence/1" "3000" "6"', 0.002),
        ('GOSUB "hotline-recording" "resume" "1"', 0.002),
        ('STREAM FILE "/p/cmn/verify/ok" ""', 0.180),  # the hash
        ('STREAM FILE "/p/cmn/loans/balance" ""', 0.003),
    ]
    at = 100.0
    log._take(event("Newexten", at, Application="AGI"))
    for number, (command, gap_s) in enumerate(commands):
        at += gap_s
        log._take(event("AGIExecStart", at, CommandId=str(number), Command=command))
        at += 1.0
        log._take(event("AGIExecEnd", at, CommandId=str(number), Result="Success"))
    found = timings(log.sessions["c1"])
    assert found.secret_check_ms == pytest.approx([180.0])
    assert found.step_ms == pytest.approx([3.0, 4.0, 5.0, 2.0, 2.0, 2.0, 3.0])


def test_a_session_without_commands_is_no_figure() -> None:
    found = timings([AgiSession(started=1.0)])
    assert found.step_ms == [] and found.session_start_ms == []


def test_percentiles_and_peaks() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 51.0 and percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) is None
    assert peak_overlap([(0, 10), (5, 15), (9, 20), (16, 30)]) == 3


PLAN = SipPlan("lost-card-mandarin", "139", ("1", "1"), "queue", "cards-priority")
ENDED = datetime(2026, 12, 6, tzinfo=UTC)


def _record(**fields: object) -> Call:
    return Call(call_id="c1", ended_at=ENDED, **fields)


@pytest.mark.parametrize(("record", "ended", "joined", "kind"), [
    (None, None, None, "lost:never ended"),
    (_record(outcome="queue", queue="cards-priority"),
     {"Outcome": "queue", "Queue": "cards-priority-cmn"}, "cards-priority-cmn", "as-planned"),
    (_record(failure="agi-FAILURE"), {"Outcome": "", "Queue": "", "Failure": "agi-FAILURE"},
     "fallback", "human"),
    (_record(outcome="hangup"), {"Outcome": "hangup", "Queue": ""}, None, "goodbye"),
    (_record(failure="agi-FAILURE"), {"Outcome": "", "Queue": "", "Failure": "agi-FAILURE"},
     None, "lost:agi-FAILURE"),
    (None, {"Outcome": "", "Queue": "", "AgiStatus": "HANGUP"}, None, "lost:HANGUP"),
])
def test_a_fault_run_judges_each_call_by_its_record(
        record: Call | None, ended: dict[str, str] | None, joined: str | None,
        kind: str) -> None:
    """As planned only when the call's record says the transcript's outcome and queue; else
    a queue that took the caller is a human, a goodbye without a failure is clean, and
    anything else is lost."""
    assert classify(PLAN, record, False, ended, joined) == kind


def test_postgresql_is_its_server_and_the_processes_it_forks() -> None:
    assert is_postgres(b"/usr/lib/postgresql/17/bin/postgres\0-D\0/srv/pg/data\0")
    assert is_postgres(b"postgres: postgres hotline 127.0.0.1(40112) idle\0")
    assert is_postgres(b"postgres: checkpointer \0")
    assert not is_postgres(b"runuser\0-u\0postgres\0--\0pg_ctl\0")
    assert not is_postgres(b"python\0-m\0hotline\0records\0--db\0postgresql://postgres@x\0")


def test_a_group_keeps_the_cpu_of_members_that_have_exited() -> None:
    marker = b"bench-group-member"
    program = "import sys, time\nend = time.process_time() + 0.3\n" \
              "while time.process_time() < end: pass\ntime.sleep(0.6)"
    sampler = ProcessSampler({}, {}, interval_s=0.1,
                             groups={"busy": lambda cmdline: marker in cmdline})
    sampler.start()
    subprocess.run([sys.executable, "-c", program, marker.decode()], check=True)
    usage = sampler.stop()["busy"]
    assert 0.2 <= usage.cpu_s <= 1.0  # the child's 0.3 s of CPU, read while it slept
    assert usage.peak_rss_mb > 0
