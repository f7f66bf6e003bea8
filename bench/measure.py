"""What the benchmark measures, from outside the programs under test.

- AGI timing from Asterisk's own events (AMI, each stamped by Asterisk when raised): a step's
  overhead is the gap between Asterisk finishing one AGI command and receiving the next on
  the same call — the AGI program's reading, deciding, database and writing time, with no
  audio playback in it. A session's start is the gap from the dialplan starting AGI() to the
  first command (connecting, or starting a process, plus the route's set-up).
  Input to next prompt: from the end of the command that took the caller's keys or voice to
  the start of the next prompt (for voice, recognition included: the command ends when the
  hotline hears the answer end — RECORD FILE on its pause, AudioSocket on Vosk's endpoint).
- CPU and memory of named processes from /proc, sampled twice a second; classic AGI programs
  are children of Asterisk, so their CPU is Asterisk's reaped-children time.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.sip_plans import READ_COMMAND
from pbx.ami import Ami, Event

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A Read (a number) starts with its prompts too: the answer before it is heard by then.
PROMPT_COMMANDS = ("STREAM FILE", READ_COMMAND)
# The commands that hear a voice answer (as the verbs below name them: two words, upper case).
HEARING_COMMANDS = ("RECORD FILE", 'EXEC "AUDIOSOCKET"')
# A secret check: the verify node's prompts (the shipped prompt ids verify.*) ask for the
# secret with the recording paused; the step after the recording resumes is the check, an
# argon2id hash of ~0.2 s of CPU by design. It is a figure of its own, not an AGI step.
SECRET_PROMPT_PATH = "/verify/"
RECORDING_RESUME = ("GOSUB", "resume")
# Only what the figures need: every event costs Asterisk and this reader time.
EVENT_FILTERS = ("Event: AGIExec", "Event: UserEvent", "Application: AGI[[:space:]]",
                 "Event: DTMFEnd", "Event: QueueCallerJoin")


# The classes those events are in (Newexten is "dialplan", DTMFEnd "dtmf", queue "agent").
EVENT_CLASSES = "agi,user,dialplan,dtmf,agent"


def filter_events(ami: Ami, filters: Iterable[str]) -> None:
    for pattern in filters:
        ami.action("Filter", Operation="Add", Filter=pattern)


@dataclass
class AgiSession:
    started: float
    commands: list[tuple[float, float, str, str]] = field(default_factory=list)
    # (started, ended, command, result)
    keys: list[float] = field(default_factory=list)  # when the caller's keys arrived
    asked_secret: bool = False  # a verify prompt played since the recording last resumed
    secret_checks: set[int] = field(default_factory=set)  # commands a secret check follows


class EventLog:
    """Collects the AGI events of every call on its own AMI connection (a thread)."""

    def __init__(self, ami: Ami, listener: Callable[[Event], None] | None = None) -> None:
        self.ami = ami
        self.listener = listener  # also told of every event, on the reading thread
        self.sessions: dict[str, list[AgiSession]] = defaultdict(list)
        self.ended: dict[str, Event] = {}
        self.answered: set[str] = set()
        self.joined: dict[str, str] = {}  # call -> the last queue it joined
        self._open: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-events", daemon=True)

    def start(self) -> EventLog:
        self.ami.only_events(EVENT_CLASSES)
        filter_events(self.ami, EVENT_FILTERS)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def ended_count(self, calls: Iterable[str]) -> int:
        with self._lock:
            return sum(1 for call in calls if call in self.ended)

    def _run(self) -> None:
        while not self._stop.is_set():
            event = self.ami.next_event(0.2)
            if event is not None:
                with self._lock:
                    self._take(event)
                if self.listener is not None:
                    self.listener(event)

    def _take(self, event: Event) -> None:
        name = event.get("Event", "")
        call = event.get("Uniqueid", "")
        at = float(event.get("Timestamp", "0") or 0)
        if name == "Newexten" and event.get("Application") == "AGI":
            self.sessions[call].append(AgiSession(at))
        elif name == "AGIExecStart":
            self._open[(call, event.get("CommandId", ""))] = (at, event.get("Command", ""))
        elif name == "AGIExecEnd":
            opened = self._open.pop((call, event.get("CommandId", "")), None)
            if opened is not None and self.sessions.get(call):
                command = opened[1].split(" ")
                verb = " ".join(command[:2]).upper()
                session = self.sessions[call][-1]
                session.commands.append((opened[0], at, verb, event.get("Result", "")))
                if verb in PROMPT_COMMANDS and SECRET_PROMPT_PATH in opened[1]:
                    session.asked_secret = True
                elif command[0].upper() == RECORDING_RESUME[0] and session.asked_secret \
                        and RECORDING_RESUME[1] in (word.strip('"') for word in command):
                    session.secret_checks.add(len(session.commands) - 1)
                    session.asked_secret = False
        elif name == "DTMFEnd" and event.get("Direction") == "Received" \
                and self.sessions.get(call):
            self.sessions[call][-1].keys.append(at)
        elif name == "UserEvent" and event.get("UserEvent") == "HotlineCallEnded":
            self.ended[call] = event
        elif name == "QueueCallerJoin":
            self.joined[call] = event.get("Queue", "")
        elif name == "UserEvent" and event.get("UserEvent") == "AgentAnswered":
            self.answered.add(event.get("Call", ""))


@dataclass
class Timings:
    step_ms: list[float] = field(default_factory=list)
    secret_check_ms: list[float] = field(default_factory=list)  # steps that check a secret
    session_start_ms: list[float] = field(default_factory=list)
    keys_to_prompt_ms: list[float] = field(default_factory=list)
    voice_to_prompt_ms: list[float] = field(default_factory=list)
    ivr_spans: list[tuple[float, float]] = field(default_factory=list)


def timings(sessions: Iterable[AgiSession]) -> Timings:
    found = Timings()
    for session in sessions:
        commands = session.commands
        if not commands:
            continue
        found.session_start_ms.append((commands[0][0] - session.started) * 1000)
        found.ivr_spans.append((session.started, commands[-1][1]))
        for index, (before, after) in enumerate(zip(commands, commands[1:], strict=False)):
            gap_ms = (after[0] - before[1]) * 1000
            if before[2] in HEARING_COMMANDS:
                continue  # recognition or a message being stored: measured below
            if index in session.secret_checks:
                found.secret_check_ms.append(gap_ms)
                continue
            found.step_ms.append(gap_ms)
        prompts = [c[0] for c in commands if c[2] in PROMPT_COMMANDS]
        for index, (_start, end, verb, _result) in enumerate(commands):
            if verb not in HEARING_COMMANDS:
                continue
            following = next((c for c in commands[index + 1:] if c[2] in PROMPT_COMMANDS),
                             None)
            if following is not None:
                found.voice_to_prompt_ms.append((following[0] - end) * 1000)
        # The last key before each prompt (one answer may be several keys).
        for previous, prompt in zip([session.started, *prompts], prompts, strict=False):
            pressed = [at for at in session.keys if previous <= at <= prompt]
            if pressed:
                found.keys_to_prompt_ms.append((prompt - pressed[-1]) * 1000)
    return found


def next_prompt_after(session: AgiSession, moment: float) -> float | None:
    """When the first prompt after `moment` (epoch seconds) started."""
    return next((start for start, _end, verb, _result in session.commands
                 if verb in PROMPT_COMMANDS and start >= moment), None)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _at, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def peak_percent(history: list[tuple[float, int]], window_s: float) -> float:
    """The highest CPU % of one core over any `window_s` of (time, CPU ticks) samples."""
    peak = 0.0
    start = 0
    for end in range(len(history)):
        while history[end][0] - history[start][0] > window_s and start < end:
            start += 1
        if start > 0:  # use the window that just reached `window_s` or more
            span_s = history[end][0] - history[start - 1][0]
            ticks = history[end][1] - history[start - 1][1]
            peak = max(peak, 100 * ticks / CLOCK_TICKS / span_s)
    return peak


def cpu_ticks(pid: int, children: bool = False) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the command: state is field 3; utime, stime, cutime, cstime are fields 14-17
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if children else 0)


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def command_lines() -> dict[int, bytes]:
    """Every process's command line (NUL-separated, as in /proc), read once per sample."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
    return found


def is_postgres(cmdline: bytes) -> bool:
    """PostgreSQL's server (…/bin/postgres) and the processes it forks, which retitle
    themselves "postgres: …"."""
    program = cmdline.split(b"\0", 1)[0]
    return program.startswith(b"postgres:") or program.endswith(b"/bin/postgres")


@dataclass
class Usage:
    cpu_percent: float  # of one core, averaged over the run
    peak_rss_mb: float
    cpu_s: float = 0.0  # CPU seconds over the run
    peak_cpu_percent: float = 0.0  # of one core, the busiest PEAK_WINDOW_S of the run


PEAK_WINDOW_S = 3.0


class ProcessSampler:
    """CPU and memory of processes during a run. `pids`: name -> pid (None: not running), read
    directly; `markers`: name -> (marker, reaper) sums every process whose command line has it
    (classic AGI programs), their CPU counted from the reaper (the pid that reaps them).
    `groups`: name -> which command lines make up long-lived processes summed by their own
    CPU (PostgreSQL's server and backends), each counted to its last sample once gone."""

    def __init__(self, pids: dict[str, int | None], markers: dict[str, tuple[bytes, int]],
                 interval_s: float = 0.5,
                 groups: dict[str, Callable[[bytes], bool]] | None = None) -> None:
        self.pids = pids
        self.markers = markers
        self.groups = groups or {}
        self._group_ticks: dict[str, dict[int, int]] = defaultdict(dict)  # name -> pid -> CPU
        self.interval_s = interval_s
        self._first: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._peak_kb: dict[str, int] = defaultdict(int)
        self._peak_count: dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._started = 0.0
        self._offsets: dict[str, tuple[int, int]] = {}  # name -> (pid, CPU of earlier pids)
        self._history: dict[str, list[tuple[float, int]]] = defaultdict(list)

    def start(self) -> ProcessSampler:
        self._started = time.monotonic()
        self._sample()
        self._first = dict(self._last)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Usage]:
        self._stop.set()
        self._thread.join(5)
        self._sample()
        elapsed_s = max(time.monotonic() - self._started, 0.001)
        usage = {}
        for name in [*self.pids, *self.markers, *self.groups]:
            cpu_s = (self._last.get(name, 0) - self._first.get(name, 0)) / CLOCK_TICKS
            usage[name] = Usage(100 * cpu_s / elapsed_s, self._peak_kb[name] / 1024, cpu_s,
                                peak_percent(self._history[name], PEAK_WINDOW_S))
        return usage

    def peak_count(self, name: str) -> int:
        return self._peak_count[name]

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        self._sample_processes()
        now = time.monotonic()
        for name, ticks in self._last.items():
            self._history[name].append((now, ticks))

    def _sample_processes(self) -> None:
        for name, pid in self.pids.items():
            if pid is None:
                continue
            ticks = cpu_ticks(pid)
            if ticks is not None:  # a restarted process: keep counting from its new start
                self._last[name] = ticks + self._carried(name, pid)
            self._peak_kb[name] = max(self._peak_kb[name], rss_kb(pid))
        cmdlines = command_lines() if self.markers or self.groups else {}
        for name, (marker, reaper) in self.markers.items():
            running = [pid for pid, cmdline in cmdlines.items() if marker in cmdline]
            self._peak_count[name] = max(self._peak_count[name], len(running))
            self._peak_kb[name] = max(self._peak_kb[name], sum(rss_kb(p) for p in running))
            reaped = cpu_ticks(reaper, children=True)
            own = cpu_ticks(reaper)
            if reaped is not None and own is not None:
                self._last[name] = reaped - own

        for name, wanted in self.groups.items():
            seen = self._group_ticks[name]
            running = [pid for pid, cmdline in cmdlines.items() if wanted(cmdline)]
            for pid in running:
                ticks = cpu_ticks(pid)
                if ticks is not None:
                    seen[pid] = ticks
            self._last[name] = sum(seen.values())
            self._peak_kb[name] = max(self._peak_kb[name], sum(rss_kb(p) for p in running))

    def _carried(self, name: str, pid: int) -> int:
        """CPU of earlier incarnations of a restarted service, so totals never go back."""
        known_pid, offset = self._offsets.get(name, (pid, 0))
        if known_pid != pid:
            offset = self._last.get(name, 0)
        self._offsets[name] = (pid, offset)
        return offset

    def follow(self, name: str, pid: int | None) -> None:
        """The service `name` now runs as `pid` (restarted)."""
        self.pids[name] = pid
