"""The benchmark's own hotline, in `var/bench/` (never the one `make demo` runs): Asterisk 22
(the project's), a private PostgreSQL with the transcripts' customers, the speech service
with the real Korean model, the records service, simulated agents, and the AGI program under
test — the FastAGI server, or classic AGI programs Asterisk starts per call.

Prompts are rendered once into `var/bench/runtime` and reused; calls, recordings, spool and
database start empty each time.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bench.lines import (
    DIALLED,
    ROOT,
    SPEECH_LINE,
    VOICE_KEYS,
    speech_line_settings,
    transcripts,
)
from db.database import make_engine
from db.migrate import upgrade
from db.models import Call, Recording, VerificationStanding
from db.postgres import PostgresServer
from db.sample_data import store_customers
from hotline.prompt_commands import build_prompts
from ivr.agents import load_agents
from ivr.menu_loader import load_menus
from pbx import config
from pbx.ami import Ami
from pbx.process import AsteriskInstance
from pbx.provision import find_or_provision
from runtime.settings import Settings
from services.processes import BackgroundService, RecorderService, SpeechServiceProcess

BENCH_DIR = ROOT / "var" / "bench"
# The simulated agents' dialplan, shared with the real-Asterisk tests.
SIMULATED_PEERS = ROOT / "tests" / "dialplan"
AGENT_TALK_S = 4

# The classic AGI programs' command line, as /proc shows it (`python -m bench.agi classic`).
CLASSIC_MARKER = b"bench.agi\x00classic"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_settings(runtime_dir: Path, agents_file: Path, database_url: str,
                   **changes: object) -> Settings:
    return Settings.from_env().with_changes(**changes).with_changes(
        runtime_dir=runtime_dir, agents_path=agents_file,
        models_file=SPEECH_LINE / "models.yaml", database_url_setting=database_url,
        agi_port=free_port(), ami_port=free_port(), sip_port=free_port(), webrtc_port=free_port(),
        speech_port=free_port(), audiosocket_port=free_port(), recorder_port=free_port(),
        console_port=free_port(), rtp_start=32000, rtp_end=33999,
        dialplan_overlay=SIMULATED_PEERS)


def write_agents(path: Path, count: int) -> None:
    """`count` simulated agents who take every call in every language (the benchmark loads
    the IVR, not the routing policy), answering for AGENT_TALK_S seconds each."""
    skills = {skill: 5 for skill in ("general", "cards", "lost-card", "disputes", "loans",
                                     "collections", "inclusive", "complaints", "vip",
                                     "lang-cmn", "lang-yue", "lang-en", "lang-ko")}
    agents = [{"id": f"bench-{n}", "extension": f"{5000 + n}",
               "interface": f"Local/{5000 + n}@hotline-simulated-agent/n",
               "state_interface": f"Custom:agent-{5000 + n}", "skills": skills}
              for n in range(1, count + 1)]
    routing = {"widen_after_s": 0, "wrapup_s": 0, "ring_s": 5, "periodic_announce_s": 20}
    path.write_text(yaml.safe_dump({"routing": routing, "agents": agents}), encoding="utf-8")


class BenchAgiService(BackgroundService):
    """The FastAGI server under test, serving the benchmark's routes (bench/agi.py)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "bench-fastagi", ["serve", "--port",
                                                     str(settings.agi_port)],
                         settings.agi_port, module="bench.agi")


@dataclass
class Lab:
    settings: Settings
    asterisk: AsteriskInstance
    postgres: PostgresServer
    engine: Engine
    agi_bin: Path  # classic AGI programs: <agi_bin>/<transcript>/<route>
    agents: list[str]  # extensions
    durations_ms: dict[str, int] = field(default_factory=dict)
    fastagi: BenchAgiService | None = None
    speech: SpeechServiceProcess | None = None
    records: RecorderService | None = None
    recordings_volume: Path | None = None  # a small filesystem of its own (fault runs)

    def ami(self) -> Ami:
        return self.asterisk.ami()

    def fastagi_url(self, key: str) -> str:
        return f"agi://127.0.0.1:{self.settings.agi_port}/{key}"

    def classic_url(self, key: str) -> str:
        return str(self.agi_bin / key)

    def free_agents(self) -> None:
        with self.ami() as ami:
            for extension in self.agents:
                ami.action("Setvar", Variable=f"DEVICE_STATE(Custom:agent-{extension})",
                           Value="NOT_INUSE")

    def forget_verifications(self) -> None:
        """Every customer's wrong-secret count and lock cleared: the transcripts' routes keep
        the transcript's time, so a lock would never run out, and a run whose callers lost a
        key of their PIN would send every later run's callers of that customer to an agent.
        Each run starts as the first did (the attempts stay on record)."""
        with Session(self.engine) as db, db.begin():
            db.execute(delete(VerificationStanding))

    def stop(self) -> None:
        for service in (self.fastagi, self.speech, self.records):
            if service is not None:
                service.down()
        self.asterisk.down()
        self.engine.dispose()
        if self.postgres.running():
            self.postgres.stop()
        shutil.rmtree(self.postgres.base_dir, ignore_errors=True)  # a fresh one each run
        if self.recordings_volume is not None:
            subprocess.run(["umount", str(self.recordings_volume)], check=False)


def open_lab(agents: int = 40, base: Path = BENCH_DIR,
             recordings_volume_mb: int | None = None,
             trunk: tuple[str, str] | None = None) -> Lab:
    """Start everything (a few seconds; the first time also renders prompts). Stop with
    `Lab.stop()`. `recordings_volume_mb`: recordings on a filesystem of that size (a tmpfs;
    needs root), so that a full disk can be made without filling the machine's. `trunk`:
    (the hotline's address, the callers' address) of a SIP trunk whose calls land in the
    benchmark's [hotline-bench-trunk] (bench.sip_load)."""
    os.environ["PYTHONPATH"] = str(ROOT)  # the services run `python -m bench.agi`
    for stale in ("runtime/recordings", "runtime/spool", "runtime/messages",
                  "runtime/utterances", "runtime/tickets", "runtime/run", "postgres"):
        shutil.rmtree(base / stale, ignore_errors=True)
    (base / "runtime").mkdir(parents=True, exist_ok=True)
    postgres = PostgresServer(Path(f"/tmp/hotline-bench-pg-{os.getpid()}"), free_port())
    postgres.init()
    agents_file = base / "agents.yaml"
    write_agents(agents_file, agents)
    on_trunk: dict[str, object] = {} if trunk is None else {
        "sip_trunk_address": trunk[0], "sip_trunk_peer": trunk[1],
        "sip_trunk_port": free_port(), "sip_trunk_context": "hotline-bench-trunk"}
    settings = bench_settings(base / "runtime", agents_file, postgres.url, **on_trunk)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    # Each dialled transcript's own customers, as the transcript has them: its calls are
    # planned and judged against what the transcript says (the sample file's C1003, say,
    # prefers Cantonese, and would take the VIP transcript elsewhere).
    store_customers(engine, [c for t in transcripts().values() for c in t.customers])
    durations = _render_prompts(settings)
    installation = find_or_provision(settings.asterisk_root, allow_provision=False)
    python_home = Path(sys.base_prefix).resolve()
    volume = _mount_recordings_volume(settings, recordings_volume_mb) \
        if recordings_volume_mb else None
    asterisk = AsteriskInstance(settings, installation,
                                shared_paths=_classic_paths(installation.root, python_home))
    asterisk.up()
    lab = Lab(settings, asterisk, postgres, engine, _write_classic_programs(settings),
              [f"{5000 + n}" for n in range(1, agents + 1)], durations,
              recordings_volume=volume)
    _add_speech_line_queues(lab)
    lab.free_agents()
    with lab.ami() as ami:
        ami.action("Setvar", Variable="GLOBAL(AGENT_TALK_S)", Value=str(AGENT_TALK_S))
    lab.records = RecorderService(settings)
    lab.records.up()
    lab.speech = SpeechServiceProcess(settings)
    lab.speech.up()
    return lab


def _mount_recordings_volume(settings: Settings, size_mb: int) -> Path:
    where = settings.recordings_dir
    subprocess.run(["umount", str(where)], check=False, capture_output=True)  # a stale one
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0750",
                              "hotline-bench-recordings", str(where)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        raise RuntimeError(f"a recordings volume needs root (mount): {mounted.stderr.strip()}")
    return where


def _render_prompts(settings: Settings) -> dict[str, int]:
    durations: dict[str, int] = {}
    for line in (settings, speech_line_settings(settings)):
        report = build_prompts(line, quiet=True)
        if report.problems:
            raise RuntimeError(f"prompts: {report.problems[:3]}")
        manifest = json.loads((line.prompts_audio_dir / "manifest.json").read_text())
        durations.update({key: int(entry["duration_ms"]) for key, entry in manifest.items()})
    return durations


def _classic_paths(root: Path | None, python_home: Path) -> tuple[Path, ...]:
    """A chrooted Asterisk must see the Python and the code its classic AGI programs run."""
    if root is None:
        return ()
    if python_home.is_relative_to("/usr"):
        # Mounting the host's /usr over the root's would hide Asterisk's own libraries.
        raise RuntimeError(f"the classic AGI baseline needs a Python outside /usr (this one: "
                           f"{python_home}) or Asterisk on the host")
    return (python_home, ROOT)


def _write_classic_programs(settings: Settings) -> Path:
    """One shell program per transcript and route, as classic AGI deployments have them: it
    starts Python with the benchmark's settings and names itself as the route."""
    agi_bin = settings.runtime_dir / "agi-bin"
    shutil.rmtree(agi_bin, ignore_errors=True)
    exports = " ".join(f"{name}={shlex.quote(value)}"
                       for name, value in settings.environment().items())
    for key in (*DIALLED, *VOICE_KEYS):
        for route in ("hotline", "queue-exit", "survey"):
            program = agi_bin / key / route
            program.parent.mkdir(parents=True, exist_ok=True)
            program.write_text(f"#!/bin/sh\ncd {shlex.quote(str(ROOT))} && exec env "
                               f"{exports} PYTHONPATH={shlex.quote(str(ROOT))} "
                               f"{shlex.quote(sys.executable)} -m bench.agi classic \"$0\"\n")
            program.chmod(0o755)
    return agi_bin


def _add_speech_line_queues(lab: Lab) -> None:
    """The Korean line's queues, generated like the shipped line's, on the same Asterisk."""
    line = speech_line_settings(lab.settings)
    menus = load_menus(line.menus, line.catalog_file).menus
    agents, _problems = load_agents(line.agents_file)
    if menus is None or agents is None:
        raise RuntimeError("the Korean test line or the bench agents do not load")
    queues_file = config.etc_dir(lab.settings) / "queues-menus.conf"
    with queues_file.open("a", encoding="utf-8") as out:
        out.write("\n" + config.menu_queues_conf(line, menus, agents, with_fallback=False))
    with lab.ami() as ami:
        ami.command("queue reload all")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "complaints-ko has" in ami.command("queue show complaints-ko"):
                return
            time.sleep(0.3)
    raise RuntimeError("Asterisk did not load the Korean line's queues")


@dataclass
class RecordsSeen:
    """What the records service has written for a run's calls."""

    written: int = 0  # calls whose record is complete (their end is in)
    recordings: dict[str, int] = field(default_factory=dict)  # by status


def wait_for_records(lab: Lab, calls: list[str], wait_s: float) -> RecordsSeen:
    """Wait until every call's record is complete and no recording is still pending (or the
    time is up): a recording is registered when the call's end is applied, so a call whose
    record is only begun may yet add one. A database coming back after a fault is asked
    again."""
    deadline = time.monotonic() + wait_s
    seen = RecordsSeen()
    while True:
        try:
            with Session(lab.engine) as db:
                seen.written = db.scalar(select(func.count()).select_from(Call).where(
                    Call.call_id.in_(calls), Call.ended_at.is_not(None))) or 0
                statuses = db.execute(select(Recording.status, func.count()).where(
                    Recording.call_id.in_(calls)).group_by(Recording.status)).all()
                seen.recordings = {status: int(n) for status, n in statuses}
        except SQLAlchemyError:
            pass
        finished = seen.written == len(calls) and not seen.recordings.get("pending", 0)
        if finished or time.monotonic() > deadline:
            return seen
        time.sleep(1)
