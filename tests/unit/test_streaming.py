"""Streaming sessions over an AudioSocket-shaped socket pair (recogniser faked)."""

from __future__ import annotations

import socket
import struct
import threading
import time

from speech.recogniser import Recognition
from speech.streaming import (
    KIND_AUDIO,
    KIND_DTMF,
    KIND_HANGUP,
    StreamSession,
    StreamSessions,
    frame,
    read_frame,
    run_session,
)

LOUD = struct.pack("<160h", *([6000, -6000] * 80))
QUIET = bytes(320)


class FakeUtterance:
    """Reaches an endpoint once it has been fed `speech_bytes` and then some silence."""

    def __init__(self) -> None:
        self.fed = 0

    def accept(self, pcm: bytes) -> bool:
        self.fed += len(pcm)
        return self.fed > 320 * 40

    def finish(self, started: float | None = None) -> Recognition:
        return Recognition("넷", 0.9, ("넷",), 1)


class FakeEngine:
    name = "fake"

    def start(self, rate_hz: int, phrases: list[str]) -> FakeUtterance:
        return FakeUtterance()


def session(prompt_ms: int = 0, timeout_ms: int = 300) -> StreamSession:
    return StreamSession([("ko", FakeEngine())], ["넷"], timeout_ms, 8000,
                         prompt_pcm=bytes(16 * prompt_ms))


def run(frames: list[bytes], stream: StreamSession) -> tuple[dict[str, object], list[int]]:
    ours, theirs = socket.socketpair()
    received: list[int] = []

    def asterisk() -> None:
        for data in frames:
            theirs.sendall(data)
            time.sleep(0.005)

    sender = threading.Thread(target=asterisk)
    sender.start()
    try:
        result = run_session(ours, stream)
    finally:
        sender.join()
        ours.close()
    theirs.settimeout(0.2)
    try:
        while (got := read_frame(theirs)) is not None:
            received.append(got[0])
    except OSError:
        pass
    theirs.close()
    return result, received


def test_a_key_ends_the_session_at_once() -> None:
    result, _ = run([frame(KIND_AUDIO, QUIET), frame(KIND_DTMF, b"4")], session(prompt_ms=2000))
    assert result == {"ended": "key", "key": "4"}


def test_speech_over_the_prompt_stops_it_and_is_recognised() -> None:
    frames = [frame(KIND_AUDIO, LOUD)] * 20 + [frame(KIND_AUDIO, QUIET)] * 30
    result, received = run(frames, session(prompt_ms=3000))
    assert result["ended"] == "speech" and result["text"] == "넷"
    assert result["barged_in"] is True
    assert received.count(KIND_AUDIO) < 3000 // 20  # the prompt was cut short


def test_silence_after_the_prompt_is_no_input() -> None:
    result, _ = run([frame(KIND_AUDIO, QUIET)] * 5, session(timeout_ms=200))
    assert result == {"ended": "silence"}


def test_the_caller_hanging_up_ends_the_session() -> None:
    result, _ = run([frame(KIND_AUDIO, QUIET), frame(KIND_HANGUP)], session(prompt_ms=1000))
    assert result == {"ended": "hangup"}


def test_sessions_asterisk_never_connects_to_expire() -> None:
    sessions = StreamSessions()
    token = sessions.open(session())
    assert sessions.claim(token) is not None
    assert sessions.claim(token) is None  # a UUID is used once
    stale = session()
    stale.opened_at -= 60
    old = sessions.open(stale)
    sessions.open(session())  # opening sweeps stale sessions
    assert sessions.wait(old, 0.1) == {"ended": "never-connected"}
