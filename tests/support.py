"""Helpers shared by the contract and integration tiers: free ports and an in-process FastAGI
server whose session reports the test can wait on."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from agi.channel import AgiChannel
from agi.dispatch import SessionReport
from agi.routes import Route
from agi.server import FastAgiServer
from ivr.outcomes import Outcome
from tests.starter import run_starter


class FixedClock:
    """`ivr.ports.Clock` stopped at one moment (a transcript's business hours)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


# Ports for the tests' servers come from below the kernel's ephemeral range: a port the
# kernel may hand any outgoing connection (AMI, HTTP, the database) could be taken between
# two tests that listen on it in turn ("Address already in use" in CI once). The RTP ranges
# the tests give Asterisk (31000-32999) are left out too.
_TEST_PORTS = range(20000, 31000)
_handed_out: set[int] = set()


def wait_until(condition, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    """The condition's first truthy value, polled; fails the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def free_port() -> int:
    """A loopback port nothing listens on, outside the ephemeral range, not handed out
    before in this process."""
    for _ in range(1000):
        port = random.choice(_TEST_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free test port between 20000 and 31000")


@dataclass
class SessionRecorder:
    """The server's observer: collects session reports as calls end."""

    reports: list[SessionReport] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, report: SessionReport) -> None:
        with self.changed:
            self.reports.append(report)
            self.changed.notify_all()

    def wait(self, count: int = 1, timeout_s: float = 5.0) -> list[SessionReport]:
        with self.changed:
            ok = self.changed.wait_for(lambda: len(self.reports) >= count, timeout_s)
        assert ok, f"expected {count} session report(s), got {self.reports!r}"
        return self.reports

    def for_call(self, call_id: str, timeout_s: float = 10.0) -> SessionReport:
        with self.changed:
            self.changed.wait_for(lambda: any(r.call_id == call_id for r in self.reports),
                                  timeout_s)
        matches = [r for r in self.reports if r.call_id == call_id]
        assert matches, f"no FastAGI session for {call_id}: {self.reports!r}"
        return matches[0]


@dataclass(frozen=True)
class RunningServer:
    server: FastAgiServer
    sessions: SessionRecorder

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, drain_timeout_s: float = 10.0) -> None:
        self.server.stop(drain_timeout_s=drain_timeout_s)


def starter_route(channel: AgiChannel) -> Outcome:
    return run_starter(channel)


# The plumbing tests serve the starter flow (greeting, one key) under the `hotline` route
# name, so calls entering the real dialplan's [hotline-inbound] reach it.
STARTER_ROUTES: Mapping[str, Route] = MappingProxyType({"hotline": starter_route})
# The overlay the tests install in `hotline serve` and `hotline-agi` processes
# (HOTLINE_ROUTES_OVERLAY=tests.support:OVERLAY_ROUTES): the starter flow as its own route.
OVERLAY_ROUTES: Mapping[str, Route] = MappingProxyType({"starter": starter_route})
OVERLAY = "tests.support:OVERLAY_ROUTES"


def start_fastagi(port: int = 0, routes: Mapping[str, Route] = STARTER_ROUTES, *,
                  idle_timeout_s: float = 30.0) -> RunningServer:
    """A FastAGI server on 127.0.0.1:`port` (0: any free port), serving in a thread."""
    sessions = SessionRecorder()
    server = FastAgiServer("127.0.0.1", port, routes=routes, observer=sessions,
                           idle_timeout_s=idle_timeout_s)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    assert server.wait_serving()
    return RunningServer(server, sessions)


@contextmanager
def serving(app: Any, what: str = "the console") -> Iterator[str]:
    """An ASGI app served by uvicorn on a free loopback port, in a thread: its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, what)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def race_first_verifications(engine: Any, seal: Any, callers: int) -> tuple[list[object],
                                                                            list[str]]:
    """`callers` first PIN attempts for sample customer C1001 at the same moment, each with
    its own verifier (as calls have): what each attempt returned (its failure count, or the
    exception) and the attempts the database kept."""
    from sqlalchemy import select

    from db.database import sessions
    from db.models import VerificationAttempt
    from db.self_service import SqlVerifier

    start = threading.Barrier(callers)
    outcomes: list[object] = []
    now = datetime.fromisoformat("2026-11-23T10:00:00+00:00")

    def attempt(n: int) -> None:
        verifier = SqlVerifier(engine, seal)
        start.wait()
        try:
            outcomes.append(verifier.attempt("C1001", "pin", "135790", call_id=f"race-{n}",
                                             now=now, max_failures=3,
                                             lock_minutes=30).failures)
        except Exception as exc:  # noqa: BLE001 - what the caller would have met
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with sessions(engine)() as session:
        kept = [a.result for a in session.scalars(select(VerificationAttempt))]
    return outcomes, kept
