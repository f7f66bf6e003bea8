"""Load over real SIP: SIPp callers in a network namespace of their own call the hotline's
SIP trunk, with RTP audio, RFC 4733 keys and recorded speech, and act when the hotline waits
for them (bench.director); the hotline's own call records judge each call.

    .venv/bin/python -m bench.sip_load [--calls 50,100,200,300,500] [--runs 3]
                                       [--modes fastagi,classic] [--classic-max 100]
                                       [--speech-every 4] [--speech-lines speech-ko-stream]

Per mode and N, the median of the runs (the spread beside it): calls done / failed (a call
fails only when its record does not say what its transcript does: outcome, queue, no
failure path; a caller who hung up after its patience counts as a failure of the hotline's),
AGI step p50/p99, call setup (INVITE to 200 OK, measured by SIPp), keys→prompt p50/p99,
for voice answers (per Korean line: recorded or streamed) the next prompt's start after the
caller's words end and after the hotline hears the answer end, CPU % of one core and MB for
Asterisk, the AGI program, the speech and records services, PostgreSQL and SIPp, calls
recorded and recordings stored. Results are also written to var/bench/sip-<time>.json.
Needs root (network namespace) and Debian's `sip-tester` (installed when missing).
BENCH_RTP_DEBUG=1 turns on Asterisk's RTP debug for the runs (its log shows every packet
the callers send).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.director import Director
from bench.lab import (
    BENCH_DIR,
    CLASSIC_MARKER,
    BenchAgiService,
    Lab,
    open_lab,
    wait_for_records,
)
from bench.lines import VOICE_KEYS, evenly, mix
from bench.local_callers import LocalCallers
from bench.measure import (
    EventLog,
    ProcessSampler,
    Usage,
    is_postgres,
    next_prompt_after,
    percentile,
    timings,
)
from bench.profile import AsteriskProfiler, Profile
from bench.sip_caller import scenario_xml, words_end_ms, write_rtp_pcap
from bench.sip_net import CallerNetwork
from bench.sip_plans import SipPlan, sip_plans
from bench.sip_twin import SippTwin
from db.models import Call
from ivr.menu_loader import load_menus
from runtime.host import program_from_debian

console = Console(width=220)
app = typer.Typer(add_completion=False)
CALLER_SIP_PORT = 5060
CALLER_MEDIA_PORT = 20000
# A caller the hotline neither asks anything nor lets go for this long hangs up (it kept
# them too long); counted from the answer, then from each of its waits.
PATIENCE_S = 120.0
RUN_LIMIT_S = 4 * PATIENCE_S  # after the ramp: the longest transcript's IVR, queue and survey


@dataclass
class SipRun:
    mode: str
    calls: int
    done: int
    failed: int
    failures: dict[str, int]
    hung_up_by_caller: int
    step_p50_ms: float | None
    step_p99_ms: float | None
    # The verify node's secret checks (argon2id by design), apart from the steps; and the
    # p99 of every step with them in, as the figures before 2026-12-06 counted.
    secret_p50_ms: float | None
    secret_p99_ms: float | None
    all_steps_p99_ms: float | None
    setup_p50_ms: float | None
    setup_p99_ms: float | None
    keys_p50_ms: float | None
    keys_p99_ms: float | None
    voice: dict[str, dict[str, object]]  # per voice line: callers, VOICE_FIGURES, slowest
    cpu: dict[str, float]  # average % of one core over the run
    cpu_peak: dict[str, float]  # the busiest 3 s
    mb: dict[str, float]
    cpu_ms_per_call: dict[str, float]
    records: int
    recordings: int
    load_1min: float
    examples: list[str]


class LoadBench:
    """The series' runs, with callers over SIP (SIPp in `network`) or, with no network,
    `Local/` channels inside Asterisk (bench.local_callers) — the same plans, director and
    judge either way."""

    def __init__(self, lab: Lab, network: CallerNetwork | None, sipp: str, work: Path,
                 speech_every: int, speech_lines: tuple[str, ...] = VOICE_KEYS,
                 profile_s: float = 0.0) -> None:
        """`profile_s`: sample Asterisk with perf for this long once every call is up."""
        self.lab, self.network, self.sipp, self.work = lab, network, sipp, work
        self.speech_every = speech_every
        self.perf = program_from_debian("perf", "linux-perf") if profile_s > 0 else ""
        self.profile_s = profile_s
        menus = load_menus(lab.settings.menus, lab.settings.catalog_file).menus
        assert menus is not None
        self.plans = [plan for plan in sip_plans(menus, lab.durations_ms["ko/main.menu"])
                      if plan.key not in VOICE_KEYS or plan.key in speech_lines]
        self.sounds_dir = lab.settings.runtime_dir / "speech-line" / "prompts" / "ko"
        self.words_ms: dict[str, int] = {}  # "say=<sound>" → its words' length, ms
        pcaps = []
        for sound in sorted({turn for plan in self.plans for turn in plan.turns
                             if turn and turn.startswith("say=")}):
            wav = self.sounds_dir / f"{sound[4:]}.wav"
            self.words_ms[sound] = words_end_ms(wav)
            if network is not None:  # SIPp says it from an RTP pcap
                pcap = work / f"{sound[4:].replace('/', '-')}.pcap"
                pcaps.append((pcap, write_rtp_pcap(wav, pcap)))
        self.scenario = work / "caller.xml"
        if network is not None:
            self.scenario.write_text(scenario_xml(pcaps), encoding="utf-8")

    def run(self, mode: str, count: int) -> SipRun:
        plans = mix(self.plans, count, self.speech_every)
        url = self.lab.fastagi_url if mode == "fastagi" else self.lab.classic_url
        ramp_s = max(2.0, count / 20)
        director = Director(plans, self.words_ms, PATIENCE_S)
        run_dir = self.work / f"run-{mode}-{count}-{time.time_ns()}"
        run_dir.mkdir()
        asterisk_pid = self.lab.asterisk.status().pid
        with self.lab.ami() as event_ami, self.lab.ami() as act_ami:
            act_ami.only_events("off")  # it only acts
            if os.environ.get("BENCH_RTP_DEBUG"):
                event_ami.command("rtp set debug on")
            local = LocalCallers(director, act_ami, self.sounds_dir) \
                if self.network is None else None
            events = EventLog(event_ami, director.on_event if local is None else
                              local.and_then(director.on_event)).start()
            sampler = ProcessSampler(
                {"agi": self.lab.fastagi.pid() if self.lab.fastagi and mode == "fastagi"
                 else None, "speech": self.lab.speech.pid() if self.lab.speech else None,
                 "asterisk": asterisk_pid,
                 "records": self.lab.records.pid() if self.lab.records else None,
                 **({"callers": os.getpid()} if local is not None else {})},
                {"classic": (CLASSIC_MARKER, asterisk_pid or 0)} if mode == "classic" else {},
                groups={"database": is_postgres,
                        **({"callers": _is_sipp} if local is None else {})})
            sampler.start()
            profiler = AsteriskProfiler(
                self.perf, asterisk_pid, self.lab.asterisk.installation.root,
                run_dir / "asterisk.perf", ramp_s, self.profile_s).start() \
                if self.profile_s > 0 and asterisk_pid else None
            try:
                if local is not None:
                    director.start(local)
                    self._place_local(local, plans, url, ramp_s)
                    director_waits(director, count, ramp_s + RUN_LIMIT_S, lambda: True)
                else:
                    self._call_over_sip(director, plans, url, ramp_s, run_dir)
            finally:
                usage = sampler.stop()
                director.stop()
                events.stop()
        if local is not None and local.failed_acts:
            console.print(f"{len(local.failed_acts)} acts refused by Asterisk, e.g. "
                          f"{local.failed_acts[:3]}")
        if profiler is not None:
            print_profile(profiler.finish(), mode, count)
        return self._summarise(mode, plans, director, events, usage, run_dir)

    @staticmethod
    def _place_local(local: LocalCallers, plans: list[SipPlan], url: Callable[[str], str],
                     ramp_s: float) -> None:
        """Originate the calls evenly over `ramp_s`."""
        for index, plan in evenly(plans, ramp_s):
            local.place(index, plan, url(plan.key))

    def _call_over_sip(self, director: Director, plans: list[SipPlan],
                       url: Callable[[str], str], ramp_s: float, run_dir: Path) -> None:
        assert self.network is not None
        count = len(plans)
        calls_csv = run_dir / "calls.csv"
        calls_csv.write_text("SEQUENTIAL\n" + "".join(
            f"{n};{plan.caller_number};{url(plan.key)}\n" for n, plan in enumerate(plans)))
        sounds = sorted(self.words_ms)  # SIPp's act order (its scenario's)
        twin = SippTwin(director, sounds, (self.network.host_address, 0))
        twin_host, twin_port = twin.listen()
        director.start(twin)
        sipp = subprocess.Popen(self.network.command(
            self.sipp, f"{self.network.host_address}:{self.lab.settings.sip_trunk_port}",
            "-sf", str(self.scenario), "-inf", str(calls_csv),
            "-i", self.network.caller_address, "-p", str(CALLER_SIP_PORT),
            "-mi", self.network.caller_address, "-mp", str(CALLER_MEDIA_PORT),
            "-m", str(count), "-l", str(count), "-r", f"{count / ramp_s:.2f}",
            "-rp", "1000", "-3pcc", f"{twin_host}:{twin_port}",
            "-trace_rtt", "-rtt_freq", "1", "-trace_err", "-nostdin",
            "-timeout", f"{int(ramp_s + RUN_LIMIT_S + 60)}s"),
            cwd=run_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            twin.accept(lambda: sipp.poll() is None)
            director_waits(director, count, ramp_s + RUN_LIMIT_S, lambda: sipp.poll() is None)
        finally:
            twin.stop()
            if sipp.poll() is None:
                sipp.terminate()
            _stdout, stderr = sipp.communicate(timeout=30)
        if sipp.returncode not in (0, 1, -15):  # 1: some SIPp calls failed (judged below)
            console.print(f"sipp exited {sipp.returncode}: {stderr.decode()[-400:]}")

    def _summarise(self, mode: str, plans: list[SipPlan], director: Director,
                   events: EventLog, usage: dict[str, Usage], run_dir: Path) -> SipRun:
        ids = director.uniqueids()
        seen = wait_for_records(self.lab, ids, wait_s=60.0)
        with Session(self.lab.engine) as db:
            records = {call.call_id: call for call in db.scalars(
                select(Call).where(Call.call_id.in_(ids)))}
        failures: dict[str, int] = {}
        examples: list[str] = []
        for caller in director.callers:
            problem = judge(caller.plan, records.get(caller.uniqueid or ""),
                            caller.hung_up_by_caller)
            if problem is not None:
                failures[problem] = failures.get(problem, 0) + 1
                if len(examples) < 8:
                    examples.append(f"{caller.plan.key} ({caller.uniqueid}): {problem}; "
                                    f"turns taken {caller.turn}/{len(caller.plan.turns)}; "
                                    + " ".join(director.traces.get(caller.uniqueid or "", [])))
        failed = sum(failures.values())
        found = timings(s for call in ids for s in events.sessions.get(call, []))
        setup = _setup_times_ms(run_dir)

        def p(values: list[float], fraction: float) -> float | None:
            value = percentile(values, fraction)
            return None if value is None else round(value, 1)

        agi = usage["agi"] if mode == "fastagi" else usage["classic"]
        parts = {"asterisk": usage["asterisk"], "agi": agi, "speech": usage["speech"],
                 "records": usage["records"], "database": usage["database"],
                 "callers": usage["callers"]}
        return SipRun(
            mode=mode, calls=len(plans), done=len(plans) - failed, failed=failed,
            failures=failures,
            hung_up_by_caller=sum(1 for c in director.callers if c.hung_up_by_caller),
            step_p50_ms=p(found.step_ms, 0.5), step_p99_ms=p(found.step_ms, 0.99),
            secret_p50_ms=p(found.secret_check_ms, 0.5),
            secret_p99_ms=p(found.secret_check_ms, 0.99),
            all_steps_p99_ms=p(found.step_ms + found.secret_check_ms, 0.99),
            setup_p50_ms=p(setup, 0.5), setup_p99_ms=p(setup, 0.99),
            keys_p50_ms=p(found.keys_to_prompt_ms, 0.5),
            keys_p99_ms=p(found.keys_to_prompt_ms, 0.99),
            voice=self._voice_figures(director, events, usage["speech"]),
            cpu={name: round(u.cpu_percent, 1) for name, u in parts.items()},
            cpu_peak={name: round(u.peak_cpu_percent, 1) for name, u in parts.items()},
            mb={name: round(u.peak_rss_mb, 1) for name, u in parts.items()},
            cpu_ms_per_call={name: round(1000 * u.cpu_s / max(1, len(plans)), 1)
                             for name, u in parts.items()},
            records=seen.written, recordings=seen.recordings.get("stored", 0),
            load_1min=round(os.getloadavg()[0], 2), examples=examples)


    @staticmethod
    def _voice_figures(director: Director, events: EventLog,
                       speech: Usage) -> dict[str, dict[str, object]]:
        """Per voice line: how soon the next prompt starts after the caller's words end
        (the pause or endpoint that tells the hotline they have finished, recognition and
        the decision), and after the hotline has heard the answer end (recognition and the
        decision alone); the speech service's CPU per voice caller."""
        voice_callers = [c for c in director.callers if c.words_ended and c.uniqueid]
        figures: dict[str, dict[str, object]] = {}
        for key in VOICE_KEYS:
            callers = [c for c in voice_callers if c.plan.key == key]
            if not callers:
                continue
            sessions = [s for c in callers for s in events.sessions.get(c.uniqueid or "", [])]
            heard = timings(sessions).voice_to_prompt_ms
            after_words = []
            answers: list[tuple[float, str]] = []  # (ms, word), to name the slowest
            for caller in callers:
                for ended in caller.words_ended:
                    prompt = next((at for s in events.sessions.get(caller.uniqueid or "", [])
                                   if (at := next_prompt_after(s, ended)) is not None), None)
                    if prompt is not None:
                        after_words.append((prompt - ended) * 1000)
                        answers.append((after_words[-1], caller.plan.turns[0] or ""))
            figures[key] = {
                "callers": len(callers),
                **{f"{name}_p{round(q * 100)}_ms": _rounded(percentile(values, q))
                   for name, values in (("words", after_words), ("heard", heard))
                   for q in (0.5, 0.95, 0.99)},
                "slowest": [f"{word} {ms:.0f}" for ms, word in sorted(answers)[-5:]]}
        if voice_callers:
            figures["speech"] = {"cpu_ms_per_voice_caller":
                                 round(1000 * speech.cpu_s / len(voice_callers), 1)}
        return figures


def print_profile(profile: Profile, mode: str, count: int) -> None:
    console.print(f"[bold]Asterisk's CPU by perf[/], {mode} {count} calls "
                  "(% of samples: by shared object, then by function):")
    for line in profile.by_object + [""] + profile.by_function:
        console.print(f"    {line}")
    if profile.problem:
        console.print(f"    {profile.problem}")


def director_waits(director: Director, count: int, limit_s: float,
                   callers_running: Callable[[], bool]) -> None:
    """Until every call has ended, the callers have stopped or `limit_s` has passed."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and director.ended_count() < count \
            and callers_running():
        time.sleep(0.5)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def judge(plan: SipPlan, record: Call | None, caller_gave_up: bool) -> str | None:
    """None when the call's record says what its transcript does."""
    if record is None:
        return "no call record"
    if record.ended_at is None:
        return "record never ended"
    if record.failure:
        return f"failure path: {record.failure}"
    if caller_gave_up and plan.outcome != "queue":
        return "caller gave up waiting"
    if (record.outcome or "") != plan.outcome or (record.queue or "") != plan.queue:
        return (f"ended {record.outcome or '-'}/{record.queue or '-'} "
                f"({record.reason or 'no reason'}) not {plan.outcome}/{plan.queue or '-'}")
    return None


def _is_sipp(cmdline: bytes) -> bool:
    return cmdline.split(b"\0", 1)[0].endswith(b"sipp")


def _setup_times_ms(run_dir: Path) -> list[float]:
    """INVITE to 200 OK of every call, from SIPp's response-time trace (date;ms;rtd)."""
    found = []
    for trace in run_dir.glob("*_rtt.csv"):
        for line in trace.read_text(errors="replace").splitlines()[1:]:
            fields = line.split(";")
            if len(fields) >= 2:
                try:
                    found.append(float(fields[1]))
                except ValueError:
                    continue
    return found


# -- the series ---------------------------------------------------------------------------


def median_run(runs: list[SipRun]) -> dict[str, object]:
    """Each figure the median of the runs, with its spread (min–max)."""
    def figure(name: str) -> str:
        values = [getattr(r, name) for r in runs if getattr(r, name) is not None]
        if not values:
            return "-"
        middle = statistics.median(values)
        return f"{middle:g}" if len(values) == 1 else \
            f"{middle:g} ({min(values):g}–{max(values):g})"

    def part(kind: str, name: str) -> str:
        values = [getattr(r, kind)[name] for r in runs]
        return f"{statistics.median(values):g}"

    summary: dict[str, object] = {name: figure(name) for name in (
        "done", "failed", "step_p50_ms", "step_p99_ms", "secret_p50_ms", "secret_p99_ms",
        "all_steps_p99_ms", "setup_p50_ms", "setup_p99_ms", "keys_p50_ms", "keys_p99_ms",
        "records", "recordings", "load_1min")}
    for name in runs[0].cpu:
        summary[f"{name} CPU avg/peak"] = f"{part('cpu', name)}/{part('cpu_peak', name)}"
        summary[f"{name} MB"] = part("mb", name)
        summary[f"{name} CPU ms/call"] = part("cpu_ms_per_call", name)
    return summary


def print_series(results: dict[tuple[str, int], list[SipRun]], callers: str) -> None:
    columns = ["done", "failed", "step_p50_ms", "step_p99_ms", "secret_p50_ms",
               "secret_p99_ms", "all_steps_p99_ms", "setup_p50_ms", "setup_p99_ms",
               "keys_p50_ms", "keys_p99_ms", "records", "recordings", "load_1min"]
    table = Table(title=f"Load, {callers} (medians of the runs, spread in brackets; ms)")
    for column in ("mode", "N", "runs", *columns):
        table.add_column(column, justify="right")
    usage = Table(title="CPU % of one core (average/busiest 3 s), CPU ms per call, MB")
    for column in ("mode", "N", "asterisk", "agi", "speech", "records", "database",
                   "callers"):
        usage.add_column(column, justify="right")
    for (mode, count), runs in sorted(results.items(), key=lambda item: (item[0][1],
                                                                          item[0][0])):
        summary = median_run(runs)
        table.add_row(mode, str(count), str(len(runs)), *(str(summary[c]) for c in columns))
        usage.add_row(mode, str(count), *(
            f"{summary[f'{name} CPU avg/peak']} · {summary[f'{name} CPU ms/call']} ms · "
            f"{summary[f'{name} MB']} MB"
            for name in ("asterisk", "agi", "speech", "records", "database", "callers")))
    console.print(table)
    console.print(usage)
    print_voice(results)
    for (mode, count), runs in results.items():
        for run in runs:
            if run.failures:
                console.print(f"{mode} N={count}: {run.failures}")
                for example in run.examples:
                    console.print(f"    {example}", highlight=False)


VOICE_FIGURES = ("words_p50_ms", "words_p95_ms", "words_p99_ms", "heard_p50_ms",
                 "heard_p95_ms", "heard_p99_ms")


def print_voice(results: dict[tuple[str, int], list[SipRun]]) -> None:
    """Voice answers per line: words → prompt counts from the end of the caller's words,
    heard → prompt from the hotline hearing the answer end (medians of the runs)."""
    table = Table(title="Voice answers: ms from the end of the caller's words (words) and "
                        "from the hotline hearing the answer end (heard) to the next prompt")
    for column in ("mode", "N", "line", "callers", *VOICE_FIGURES, "speech CPU ms/caller"):
        table.add_column(column, justify="right")
    for (mode, count), runs in sorted(results.items(), key=lambda item: (item[0][1],
                                                                          item[0][0])):
        for key in VOICE_KEYS:
            lines = [r.voice[key] for r in runs if key in r.voice]
            if not lines:
                continue

            def middle(name: str, lines: list[dict[str, object]] = lines) -> str:
                values = [float(v) for line in lines
                          if isinstance(v := line.get(name), int | float)]
                if not values:
                    return "-"
                return f"{statistics.median(values):g}" if len(values) == 1 else \
                    f"{statistics.median(values):g} ({min(values):g}–{max(values):g})"
            speech = [r.voice["speech"] for r in runs if "speech" in r.voice]
            table.add_row(mode, str(count), key, middle("callers"),
                          *(middle(name) for name in VOICE_FIGURES),
                          middle("cpu_ms_per_voice_caller", speech))
    if table.row_count:
        console.print(table)
        for (mode, count), runs in results.items():
            for run in runs:
                for key in VOICE_KEYS:
                    slowest = run.voice.get(key, {}).get("slowest")
                    if isinstance(slowest, list):
                        console.print(f"{mode} N={count} {key}, slowest answers (word ms): "
                                      + ", ".join(str(item) for item in slowest),
                                      highlight=False)


def run_series(counts: list[int], modes: list[str], runs: int, classic_max: int,
               agents: int, speech_every: int, speech_lines: tuple[str, ...],
               over_sip: bool, profile_s: float = 0.0) -> dict[tuple[str, int], list[SipRun]]:
    """Every mode and N, `runs` times; over SIP (root: a network namespace, SIPp) or with
    `Local/` callers."""
    sipp = program_from_debian("sipp", "sip-tester") if over_sip else ""
    network = CallerNetwork.create() if over_sip else None
    work = BENCH_DIR / ("sip" if over_sip else "local")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results: dict[tuple[str, int], list[SipRun]] = {}
    trunk = None if network is None else (network.host_address, network.caller_address)
    try:
        with console.status("starting Asterisk, PostgreSQL, speech and records services…"):
            lab = open_lab(agents, trunk=trunk)
        try:
            bench = LoadBench(lab, network, sipp, work, speech_every, speech_lines,
                              profile_s)
            for count in counts:
                for mode in modes:
                    if mode == "classic" and count > classic_max:
                        continue
                    if mode == "fastagi":
                        lab.fastagi = lab.fastagi or BenchAgiService(lab.settings)
                        lab.fastagi.up()
                    elif lab.fastagi is not None:
                        lab.fastagi.down()
                    for run in range(runs):
                        console.print(f"[bold]{mode}[/] {count} calls, run {run + 1}…")
                        lab.free_agents()
                        lab.forget_verifications()
                        result = bench.run(mode, count)
                        console.print(f"    done {result.done}, failed {result.failed}, "
                                      f"step p99 {result.step_p99_ms} ms, secret check "
                                      f"p99 {result.secret_p99_ms} ms")
                        results.setdefault((mode, count), []).append(result)
        finally:
            lab.stop()
    finally:
        if network is not None:
            network.destroy()
    return results


def parsed(calls: str, modes: str, speech_lines: str) -> tuple[list[int], list[str],
                                                                tuple[str, ...]]:
    counts = [int(c) for c in calls.split(",") if c.strip()]
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    if not set(chosen) <= {"fastagi", "classic"} or not counts:
        raise typer.BadParameter("modes are fastagi and classic; calls a list of numbers")
    lines = tuple(line.strip() for line in speech_lines.split(",") if line.strip())
    if not lines or not set(lines) <= set(VOICE_KEYS):
        raise typer.BadParameter(f"speech lines are {', '.join(VOICE_KEYS)}")
    return counts, chosen, lines


def save(results: dict[tuple[str, int], list[SipRun]], name: str) -> None:
    """Print the series and keep it as var/bench/<name>-<time>.json."""
    print_series(results, "SIP callers" if name == "sip" else "Local/ callers")
    out = BENCH_DIR / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({f"{mode}-{count}": [asdict(r) for r in rs]
                               for (mode, count), rs in results.items()}, indent=2))
    console.print(f"results: {out}")


SPEECH_LINES_HELP = ("The voice lines callers use, taken in turn: speech-ko (answers "
                     "recorded, ended by a pause), speech-ko-stream (streamed, ended by "
                     "Vosk's endpointer).")


@app.command()
def main(calls: str = typer.Option("50,100,200,300,500", help="Concurrent calls per run."),
         runs: int = typer.Option(3, help="Runs per mode and N; figures are their medians."),
         modes: str = typer.Option("fastagi,classic", help="fastagi, classic or both."),
         classic_max: int = typer.Option(100, help="Largest N for classic AGI() (a Python "
                                         "process per call: ~75 MB each)."),
         agents: int = typer.Option(40, help="Simulated agents answering."),
         speech_every: int = typer.Option(0, help="Every n-th caller answers by voice on a "
                                          "Korean line (0: keys only; 1: every caller)."),
         speech_lines: str = typer.Option(",".join(VOICE_KEYS),
                                          help=SPEECH_LINES_HELP),
         profile_s: float = typer.Option(0.0, help="Sample Asterisk with perf for this many "
                                         "seconds once every call is up; print where its "
                                         "CPU goes.")) -> None:
    counts, chosen, lines = parsed(calls, modes, speech_lines)
    save(run_series(counts, chosen, runs, classic_max, agents, speech_every, lines,
                    over_sip=True, profile_s=profile_s), "sip")


if __name__ == "__main__":
    app()
