"""The FastAGI server against peers that are not Asterisk: bounded lines, environments,
connections and silence, and the port it is told to use.

Attacks reproduced: a line with no newline was buffered without limit (30 MB: +29 MB);
idle connections were held 600 s; no cap on threads; listen backlog 5 (of 150 quick
connects, 24 waited about a second); `hotline serve` ignored HOTLINE_AGI_PORT."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agi.channel import MAX_LINE_CHARS
from agi.dispatch import SessionEnd
from agi.server import FastAgiServer
from tests.support import STARTER_ROUTES, SessionRecorder, free_port

BIN = Path(sys.executable).parent


@pytest.fixture
def limited() -> Iterator[tuple[FastAgiServer, SessionRecorder]]:
    sessions = SessionRecorder()
    server = FastAgiServer("127.0.0.1", 0, routes=STARTER_ROUTES, observer=sessions,
                           environment_timeout_s=1.0, max_calls=3, backlog=256)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    assert server.wait_serving()
    yield server, sessions
    server.stop(drain_timeout_s=5)


def closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        while sock.recv(65536):
            continue
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_line_without_end_is_cut_off_not_buffered(
        limited: tuple[FastAgiServer, SessionRecorder]) -> None:
    server, sessions = limited
    before = rss_mb()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(30):  # 30 MB, no newline
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed on us: as it should
        assert closed_by_server(sock, within_s=10)
    assert rss_mb() - before < 2 * MAX_LINE_CHARS / (1 << 20) + 10
    report = sessions.wait()[0]
    assert report.end is SessionEnd.HUNG_UP and "more than" in report.detail


def test_a_silent_connection_is_closed_after_the_environment_deadline(
        limited: tuple[FastAgiServer, SessionRecorder]) -> None:
    server, _sessions = limited
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        started = time.monotonic()
        assert closed_by_server(sock, within_s=10)
        assert time.monotonic() - started < 5  # not 600 s


def test_connections_beyond_the_call_limit_are_closed_at_once(
        limited: tuple[FastAgiServer, SessionRecorder]) -> None:
    server, _sessions = limited
    server.environment_timeout_s = 30.0  # hold the first three open
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
    try:
        deadline = time.monotonic() + 10
        while server.active_calls < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.active_calls == 3
        with socket.create_connection(("127.0.0.1", server.port)) as extra:
            assert closed_by_server(extra, within_s=5)
        assert server.refused == 1 and server.active_calls == 3
    finally:
        for sock in held:
            sock.close()


def test_the_listen_backlog_takes_a_burst_of_calls(
        limited: tuple[FastAgiServer, SessionRecorder]) -> None:
    """The kernel's accept queue is what listen() was given: `ss` shows it as the listening
    socket's Send-Q (Python's default was 5)."""
    server, _sessions = limited
    shown = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True,
                           text=True, check=True, timeout=10).stdout.split()
    assert shown[0] == "LISTEN" and int(shown[2]) == 256, shown


def test_hotline_serve_listens_on_hotline_agi_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "HOTLINE_AGI_PORT": str(port),
           "HOTLINE_RUNTIME_DIR": str(tmp_path / "var")}
    server = subprocess.Popen([str(BIN / "hotline"), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert server.poll() is None, "hotline serve exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"hotline serve did not listen on HOTLINE_AGI_PORT {port}")
    finally:
        server.terminate()
        server.wait(timeout=30)
