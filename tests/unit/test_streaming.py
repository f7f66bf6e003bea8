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
    PREROLL_FRAMES,
    StreamSession,
    StreamSessions,
    frame,
    is_whole_phrase,
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

    def so_far(self) -> str:
        return "넷"

    def finish(self, started: float | None = None) -> Recognition:
        return Recognition("넷", 0.9, ("넷",), 1)


class NoEndpointUtterance(FakeUtterance):
    """Never reaches an endpoint (a decoder that keeps waiting); has heard `words`."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words
        self.asked = 0

    def accept(self, pcm: bytes) -> bool:
        return False

    def so_far(self) -> str:
        self.asked += 1
        return self.words


class FakeEngine:
    name = "fake"

    def __init__(self, utterance: FakeUtterance | None = None) -> None:
        self.utterance = utterance

    def start(self, rate_hz: int, phrases: list[str]) -> FakeUtterance:
        return self.utterance or FakeUtterance()


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


def answered(words: str, complete_ms: int) -> tuple[dict[str, object], NoEndpointUtterance]:
    """200 ms of voice, then 600 ms of quiet, to a decoder that never ends the answer."""
    utterance = NoEndpointUtterance(words)
    stream = StreamSession([("ko", FakeEngine(utterance))], ["넷", "상담 원"], 300, 2000,
                           complete_ms=complete_ms)
    frames = [frame(KIND_AUDIO, LOUD)] * 10 + [frame(KIND_AUDIO, QUIET)] * 30
    result, _ = run(frames, stream)
    return result, utterance


def test_a_whole_phrase_and_a_short_pause_end_the_answer() -> None:
    result, utterance = answered("넷", complete_ms=200)
    assert result["ended"] == "speech" and result["text"] == "넷"
    assert utterance.asked == 1


def test_words_that_are_not_a_whole_phrase_wait_for_the_recogniser() -> None:
    result, utterance = answered("네", complete_ms=200)
    assert result["ended"] == "limit"  # not cut short: the answer may go on
    assert utterance.asked == 1  # asked once in that pause, not every frame


def test_no_complete_pause_leaves_the_end_to_the_recogniser() -> None:
    result, utterance = answered("넷", complete_ms=0)
    assert result["ended"] == "limit" and utterance.asked == 0


class FedUtterance(FakeUtterance):
    def __init__(self) -> None:
        super().__init__()
        self.audio = b""

    def accept(self, pcm: bytes) -> bool:
        self.audio += pcm
        return super().accept(pcm)


def test_the_decoder_hears_nothing_before_the_voice_but_a_moment_of_pre_roll() -> None:
    utterance = FedUtterance()
    stream = StreamSession([("ko", FakeEngine(utterance))], ["넷"], 3000, 8000)
    frames = [frame(KIND_AUDIO, QUIET)] * 50 + [frame(KIND_AUDIO, LOUD)] * 20 + \
        [frame(KIND_AUDIO, QUIET)] * 30
    result, _ = run(frames, stream)
    assert result["ended"] == "speech"
    preroll = PREROLL_FRAMES * len(QUIET)
    assert utterance.audio[:preroll] == QUIET * PREROLL_FRAMES  # 50 quiet frames, 15 fed
    assert utterance.audio[preroll:preroll + len(LOUD)] == LOUD


def test_a_whole_phrase_is_compared_without_the_model_s_spacing() -> None:
    assert is_whole_phrase("挂 失", ["挂失"]) and is_whole_phrase("상담원", ["상담 원"])
    assert not is_whole_phrase("넷 넷", ["넷"]) and not is_whole_phrase("", ["넷"])


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
