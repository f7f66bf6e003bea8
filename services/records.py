"""The call-records service (`hotline records serve`, started by `hotline up`): collects
Asterisk's call events into the spool and replays the spool into the database every
second. While the database is down, calls go on and the spool grows; when it returns, the
backlog is applied, each event once. It also runs the callback dialler (services/dialler.py)
every DIAL_EVERY_S.

A one-line JSON status is served on HOTLINE_RECORDER_PORT (loopback) for `hotline records
status` and monitoring.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from agi.menu_store import MenuStore
from db.audio_store import AudioCipher
from db.database import make_engine, masked_url
from db.outbox import OutboxSender, http_gateway
from db.privacy import load_number_secret
from db.recordings import Registrar, RetentionPolicy
from db.recordings import alarms as recording_alarms
from db.replay import SpoolReplayer
from db.spool import EventSpool
from ivr.agents import load_agents
from ivr.menu_loader import MenuSet
from ivr.menu_schema import RecordingSettings
from ivr.ports import Clock, SystemClock
from pbx import config
from pbx.ami import Ami
from pbx.call_events import AmiCollector
from pbx.presence import PresenceControl
from runtime.settings import LOOPBACK, Settings
from services.dialler import CallbackDialler, ami_originate
from services.wrap_up_gate import WrapUpGate

log = logging.getLogger(__name__)

REPLAY_EVERY_S = 1.0
DIAL_EVERY_S = 15.0
NUMBER_SECRET_FILE = "caller-number-key"
RECORDINGS_KEY_FILE = "recordings-key"
REGISTER_EVERY_S = 2.0
CHECK_EVERY_S = 60.0


@dataclass
class RecorderStatus:
    database: str  # the URL without password
    database_up: bool = False
    applied: int = 0
    rejected: int = 0
    last_error: str | None = None
    ami_connected: bool = False
    events_collected: int = 0
    callbacks_dialled: int = 0
    callbacks_deferred: int = 0
    notifications_sent: int = 0  # outbox messages the SMS gateway accepted
    recordings_stored: int = 0
    recording_alarms: int = 0  # raised since start (missing or empty files)
    open_recording_alarms: int = 0  # what `hotline recordings check` would report now
    last_recording_problem: str | None = None


class Recorder:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.replayer = SpoolReplayer(settings.spool_dir, self.engine)
        secret = load_number_secret(settings.secrets_dir / NUMBER_SECRET_FILE)
        def connect() -> Ami:
            return Ami(LOOPBACK, settings.ami_port, config.AMI_USER,
                       config.ami_secret(settings))

        self.collector = AmiCollector(connect, EventSpool(settings.spool_dir), secret)
        store = MenuStore(settings.menus, settings.catalog_file)
        store.reload()
        agents, problems = load_agents(settings.agents_file)
        for problem in problems:
            log.error("agents: %s (callbacks go to the widest pool)", problem.render())
        self.clock = clock or SystemClock()
        self.dialler = CallbackDialler(self.engine, store.current,
                                       list(agents.agents) if agents else [],
                                       ami_originate(connect), self.clock)
        self.wrap_up_gate = WrapUpGate(
            self.engine, PresenceControl(connect, list(agents.agents) if agents else []),
            agents.routing.wrap_up_limit_s if agents else 0)
        self.registrar = Registrar(self.engine, settings.recordings_dir,
                                   lambda: retention_policy(store.current()),
                                   recordings_cipher(settings))
        self.outbox = (OutboxSender(self.engine, http_gateway(settings.sms_gateway_url))
                       if settings.sms_gateway_url else None)
        self._dial_lock = threading.Lock()  # the loop and a caller of dial_once
        self.status = RecorderStatus(database=masked_url(settings.database_url))
        self._stop = threading.Event()
        self._next_dial = 0.0
        self._next_register = 0.0
        self._next_check = 0.0

    def run(self, port: int) -> None:
        server = _StatusServer((LOOPBACK, port), self)
        threads = [threading.Thread(target=self.collector.run, name="ami", daemon=True),
                   threading.Thread(target=server.serve_forever, name="status", daemon=True)]
        for thread in threads:
            thread.start()
        log.info("call records: %s, spool %s", self.status.database, self.settings.spool_dir)
        try:
            while not self._stop.is_set():
                self.replay_once()
                self._stop.wait(REPLAY_EVERY_S)
            self.replay_once()  # what came in while stopping
        finally:
            self.collector.stop()
            server.shutdown()
            server.server_close()
            self.engine.dispose()

    def replay_once(self) -> None:
        self.settings.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        report = self.replayer.replay()
        self.status.applied += report.applied
        self.status.rejected += report.rejected
        self.status.database_up = report.error is None
        if report.error is not None:
            self.status.last_error = report.error
        self.status.ami_connected = self.collector.connected
        self.status.events_collected = self.collector.spooled
        if report.error is None and time.monotonic() >= self._next_dial:
            self._next_dial = time.monotonic() + DIAL_EVERY_S
            self.dial_once()
        if report.error is None:
            self.gate_once()
        if report.error is None and self.outbox is not None:
            self.send_once()
        if report.error is None and time.monotonic() >= self._next_register:
            self._next_register = time.monotonic() + REGISTER_EVERY_S
            self.register_once()

    def gate_once(self) -> None:
        """Hold desk agents whose call just ended until its wrap-up is saved."""
        try:
            self.wrap_up_gate.step(self.clock.now())
        except SQLAlchemyError as exc:
            log.warning("wrap-up gate waits for the database: %s",
                        str(exc).splitlines()[0][:200])

    def register_once(self) -> None:
        """Store and register the recordings of calls that have ended."""
        # The folder walks (adopting unnamed files, checking for alarms) once a minute; the
        # pending recordings every round.
        full_check = time.monotonic() >= self._next_check
        try:
            registered = self.registrar.run_once(adopt=full_check)
        except SQLAlchemyError as exc:
            log.warning("recordings wait for the database: %s", str(exc).splitlines()[0][:200])
            return
        self.status.recordings_stored += registered.stored
        self.status.recording_alarms += len(registered.alarms)
        problems = registered.alarms + registered.errors
        if full_check:
            # Answered calls without a recording, unregistered files: alarms too.
            self._next_check = time.monotonic() + CHECK_EVERY_S
            with Session(self.engine) as session:
                found = recording_alarms(session, self.settings.recordings_dir,
                                         datetime.now(UTC))
            self.status.open_recording_alarms = len(found)
            for alarm in found:
                log.error("ALARM %s", alarm)
            problems += found
        if problems:
            self.status.last_recording_problem = problems[-1]

    def dial_once(self) -> None:
        try:
            with self._dial_lock:
                dialled = self.dialler.dial_due()
        except SQLAlchemyError as exc:
            log.warning("callback dialler paused, database unavailable: %s",
                        str(exc).splitlines()[0][:200])
            return
        self.status.callbacks_dialled += dialled.dialled
        self.status.callbacks_deferred += dialled.deferred

    def send_once(self) -> None:
        """Notifications due in the outbox, through the SMS gateway."""
        if self.outbox is None:
            return
        try:
            sent = self.outbox.send_due(datetime.now(UTC))
        except SQLAlchemyError as exc:
            log.warning("outbox waits for the database: %s", str(exc).splitlines()[0][:200])
            return
        self.status.notifications_sent += sent.sent

    def stop(self) -> None:
        self._stop.set()


def retention_policy(menus: MenuSet | None) -> RetentionPolicy:
    """The line's retention settings (the schema's defaults until menus load)."""
    if menus is None:
        return RetentionPolicy(RecordingSettings.model_validate({}))
    return RetentionPolicy(menus.line.recordings, {
        name: queue.recording_category for name, queue in menus.queues.items()
        if queue.recording_category})


def recordings_cipher(settings: Settings) -> AudioCipher | None:
    """The at-rest key when HOTLINE_ENCRYPT_RECORDINGS is on (created on first use)."""
    if not settings.encrypt_recordings:
        return None
    return AudioCipher.load_or_create(settings.secrets_dir / RECORDINGS_KEY_FILE)


class _StatusServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], recorder: Recorder) -> None:
        self.recorder = recorder
        super().__init__(address, _StatusHandler)


class _StatusHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        recorder = cast(_StatusServer, self.server).recorder
        status = recorder.status
        status.ami_connected = recorder.collector.connected
        self.wfile.write((json.dumps(asdict(status)) + "\n").encode())


def read_status(port: int, timeout_s: float = 3.0) -> dict[str, object]:
    with socket.create_connection((LOOPBACK, port), timeout=timeout_s) as connection:
        data = connection.makefile("rb").readline()
    result: dict[str, object] = json.loads(data)
    return result

