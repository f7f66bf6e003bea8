"""The AMI client against a fake Asterisk Manager on a loopback socket: the greeting, the
login, a burst of events split at awkward places, and actions answered in between."""

from __future__ import annotations

import functools
import io
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from console.live import LiveMonitor, MonitorUnavailable
from ivr.agents import Agent
from pbx.ami import Ami, AmiError
from tests.support import free_port

EVENTS = 3000


def event_text(n: int) -> bytes:
    return (f"Event: AGIExecEnd\r\nPrivilege: agi,all\r\nChannel: Local/s@x-{n:08x};2\r\n"
            f"Uniqueid: hotline-{n}\r\nCommandId: {n}\r\nResult: Success\r\n\r\n").encode()


class FakeManager:
    """Greets, accepts any login, then answers each action in order; after `Events` it
    writes the burst in pieces that cut lines in two; on `Logoff` it closes, as Asterisk
    does (pyst2's close waits for that)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.actions: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        peer, _ = self.listener.accept()
        with peer:
            peer.sendall(b"Asterisk Call Manager/9.0.0\r\n")
            pending = b""
            while True:
                data = peer.recv(4096)
                if not data:
                    return
                pending += data
                while b"\r\n\r\n" in pending:
                    block, pending = pending.split(b"\r\n\r\n", 1)
                    headers = dict(line.split(": ", 1) for line in
                                   block.decode().split("\r\n") if ": " in line)
                    self.actions.append(headers.get("Action", ""))
                    if headers.get("Action") == "Logoff":  # Asterisk says goodbye and hangs up
                        peer.sendall(b"Response: Goodbye\r\nMessage: Thanks\r\n\r\n")
                        return
                    peer.sendall(b"Response: Success\r\nMessage: ok\r\n\r\n")
                    if headers.get("Action") == "Events":
                        burst = b"".join(event_text(n) for n in range(EVENTS))
                        for start in range(0, len(burst), 1333):
                            peer.sendall(burst[start:start + 1333])


@pytest.fixture
def ami() -> Iterator[Ami]:
    fake = FakeManager()
    client = Ami("127.0.0.1", fake.port, "bench", "secret")
    client.connect()
    yield client
    client.close()
    fake.listener.close()


def test_every_event_of_a_burst_arrives_whole_and_in_order(ami: Ami) -> None:
    ami.only_events("agi")
    received = [ami.next_event(5) for _ in range(EVENTS)]
    assert [e and e.get("CommandId") for e in received] == [str(n) for n in range(EVENTS)]
    assert all(e and e["Channel"].startswith("Local/s@x-") for e in received)
    # Actions after the burst are still answered: writes go out at once.
    assert ami.action("Ping")["Response"] == "Success"


def test_the_stream_is_read_through_a_buffer(ami: Ami) -> None:
    """pyst2's own socket file is unbuffered: one recv() per byte of every event."""
    stream = ami._manager._sock
    assert isinstance(stream, io.BufferedRWPair | io.BufferedRandom | io.BufferedReader)


class SilentManager:
    """Accepts connections and says nothing, ever: an AMI that hangs."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.peers: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                peer, _ = self.listener.accept()
            except OSError:
                return
            self.peers.append(peer)

    def close(self) -> None:
        self.listener.close()
        for peer in self.peers:
            peer.close()


def test_an_ami_that_never_greets_is_an_error_in_bounded_time() -> None:
    """Attack: an AMI that never greets blocked the console's worker forever, and then the
    console ignored SIGTERM."""
    silent = SilentManager()
    try:
        started = time.monotonic()
        with pytest.raises(AmiError, match="no answer"):
            Ami("127.0.0.1", silent.port, "hotline", "secret", response_timeout_s=1.0).connect()
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_live_monitoring_with_ami_down_or_silent_is_503() -> None:
    """Attack: AMI down made /live/monitor answer 500."""
    agent = Agent(id="a1", extension="2001", skills={"cards": 5})
    silent = SilentManager()
    try:
        for port in (free_port(), silent.port):
            monitor = LiveMonitor(functools.partial(Ami, "127.0.0.1", port, "h", "s",
                                                    response_timeout_s=1.0), [agent])
            with pytest.raises(MonitorUnavailable):
                monitor.spy("a1", "listen", "9001")
    finally:
        silent.close()
