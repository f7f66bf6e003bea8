"""Real parts: one Asterisk 22 per test session (provisioned by the project), a real FastAGI
server per test, calls placed as Local/ channels through AMI.

These tests never skip: if Asterisk cannot be found or started, they fail and say why.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agi.dispatch import SessionReport
from agi.routes import ROUTES, Route
from agi.server import FastAgiServer
from hotline.asterisk.ami import Ami
from hotline.asterisk.process import AsteriskInstance
from hotline.asterisk.provision import ProvisionError, find_or_provision
from hotline.settings import Settings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_settings(runtime_dir: Path) -> Settings:
    return Settings.from_env().with_changes(
        runtime_dir=runtime_dir, agi_port=free_port(), ami_port=free_port(),
        sip_port=free_port(), rtp_start=31000, rtp_end=31999)


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskInstance]:
    settings = test_settings(tmp_path_factory.mktemp("runtime"))
    try:
        installation = find_or_provision(settings.asterisk_root, allow_provision=False)
    except ProvisionError as exc:
        pytest.fail(f"{exc} (the README's test command provisions it)")
    instance = AsteriskInstance(settings, installation)
    instance.up()
    yield instance
    instance.down()


class Sessions:
    """Collects the FastAGI server's session reports."""

    def __init__(self) -> None:
        self.reports: list[SessionReport] = []
        self.changed = threading.Condition()

    def __call__(self, report: SessionReport) -> None:
        with self.changed:
            self.reports.append(report)
            self.changed.notify_all()

    def for_call(self, call_id: str, timeout_s: float = 10) -> SessionReport:
        with self.changed:
            self.changed.wait_for(lambda: any(r.call_id == call_id for r in self.reports),
                                  timeout_s)
        matches = [r for r in self.reports if r.call_id == call_id]
        assert matches, f"no FastAGI session for {call_id}: {self.reports!r}"
        return matches[0]


class RunningServer:
    def __init__(self, settings: Settings, routes: dict[str, Route]) -> None:
        self.sessions = Sessions()
        self.server = FastAgiServer(settings.agi_host, settings.agi_port, routes=routes,
                                    observer=self.sessions, idle_timeout_s=30)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        assert self.server.wait_serving()

    def stop(self) -> None:
        self.server.stop(drain_timeout_s=10)


@pytest.fixture
def start_fastagi(asterisk: AsteriskInstance) -> Iterator[object]:
    """Factory: start a FastAGI server (optionally with other routes) where Asterisk looks."""
    started: list[RunningServer] = []

    def start(routes: dict[str, Route] | None = None) -> RunningServer:
        running = RunningServer(asterisk.settings, routes or dict(ROUTES))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def fastagi(start_fastagi) -> RunningServer:  # type: ignore[no-untyped-def]
    return start_fastagi()  # type: ignore[no-any-return]


@pytest.fixture
def ami(asterisk: AsteriskInstance) -> Iterator[Ami]:
    with asterisk.ami() as connected:
        yield connected
