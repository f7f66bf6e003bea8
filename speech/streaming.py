"""Streaming recognition over Asterisk's AudioSocket: the caller's audio arrives as it is
spoken, so an answer ends when Vosk's endpointer hears the caller stop — or sooner, after a
short pause, once the words heard are a whole phrase of the menu — not after a fixed pause;
keys arrive on the same socket, and the menu prompt is played from here so a caller who
starts talking interrupts it (barge-in). The decoder is fed from just before the caller's
first loud frame: a prompt's worth of silence would cost as much to decode as speech.

A call's listener first opens a session over the service's request socket (languages,
phrases, timeouts, prompt audio) and gets a UUID; Asterisk then runs
`AudioSocket(<uuid>,127.0.0.1:<port>)` for the call, which connects here. The session ends
with a key, an answer, silence for the timeout, or the caller hanging up; this side then
sends the hang-up frame, which ends the AudioSocket application, and the listener collects
the result.

Frames: type byte, 2-byte big-endian length, payload. 0x00 hang-up, 0x01 UUID (16 bytes),
0x03 DTMF digit (ASCII), 0x10 audio (8 kHz signed 16-bit little-endian), 0xff error.
Must not import pyst2 or Asterisk.
"""

from __future__ import annotations

import logging
import select
import socket
import socketserver
import struct
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from speech.levels import FRAME_BYTES, MIN_VOICE_FRAMES, is_loud
from speech.recogniser import Decoding, Recognition

log = logging.getLogger(__name__)

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_AUDIO = 0x10
KIND_ERROR = 0xFF
RATE_HZ = 8000
BYTES_PER_MS = 2 * RATE_HZ // 1000
FEED_BYTES = FRAME_BYTES * 5  # decode in 100 ms pieces: fewer calls into the decoder
MAX_COMPLETE_MS = 3000  # a longer "short pause" is a menu mistake: refused
PREROLL_FRAMES = 15  # 300 ms of audio before the first loud frame go to the decoder
BARGE_IN_FRAMES = 4  # 80 ms of voice over a prompt stops it
SESSION_CLAIM_S = 10.0  # an opened session Asterisk never connects to is dropped
RESULT_KEPT_S = 600.0  # longer than any menu: a result nobody collected is dropped


class StreamingEngine(Protocol):
    name: str

    def start(self, rate_hz: int, phrases: list[str]) -> Decoding | None: ...


@dataclass
class StreamSession:
    engines: list[tuple[str, StreamingEngine]]  # (language, engine)
    phrases: list[str]
    timeout_ms: int  # silence after the prompt before "no input"
    max_answer_ms: int
    prompt_pcm: bytes = b""
    # Once the words heard so far are a whole phrase, this much quiet ends the answer
    # (VoiceXML's completetimeout); 0, or no phrases: Vosk's endpointer alone decides.
    complete_ms: int = 0
    opened_at: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)


class StreamSessions:
    def __init__(self) -> None:
        self._open: dict[str, StreamSession] = {}
        self._finished: dict[str, StreamSession] = {}
        self._lock = threading.Lock()
        self.active = 0  # opened and not yet ended

    def open(self, session: StreamSession) -> str:
        token = str(uuid.uuid4())
        with self._lock:
            self._drop_stale()
            self._open[token] = session
            self.active += 1
        return token

    def finish(self, session: StreamSession, result: dict[str, Any]) -> None:
        with self._lock:
            if session.done.is_set():
                return
            session.result = result
            session.done.set()
            self.active -= 1

    def claim(self, token: str) -> StreamSession | None:
        with self._lock:
            session = self._open.pop(token, None)
            if session is not None:
                self._finished[token] = session
            return session

    def wait(self, token: str, timeout_s: float) -> dict[str, Any] | None:
        with self._lock:
            session = self._finished.get(token) or self._open.get(token)
        if session is None or not session.done.wait(timeout_s):
            return None
        with self._lock:
            self._finished.pop(token, None)
            self._open.pop(token, None)
        return session.result

    def _drop_stale(self) -> None:
        """Sessions Asterisk never connected to end as such; results nobody collected go."""
        now = time.monotonic()
        for token in [t for t, s in self._open.items() if now - s.opened_at > SESSION_CLAIM_S]:
            session = self._open.pop(token)
            session.result = {"ended": "never-connected"}
            session.done.set()
            self.active -= 1
            self._finished[token] = session
        for token in [t for t, s in self._finished.items()
                      if now - s.opened_at > RESULT_KEPT_S]:
            del self._finished[token]


def frame(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack(">BH", kind, len(payload)) + payload


def read_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    header = _read_exactly(sock, 3)
    if header is None:
        return None
    kind, length = struct.unpack(">BH", header)
    payload = _read_exactly(sock, length) if length else b""
    return None if payload is None else (kind, payload)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _PromptPlayer(threading.Thread):
    """Sends the prompt to the caller in real time, until it ends or is interrupted."""

    def __init__(self, sock: socket.socket, pcm: bytes, send_lock: threading.Lock) -> None:
        super().__init__(daemon=True, name="prompt-player")
        self.sock = sock
        self.pcm = pcm
        self.send_lock = send_lock
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    @property
    def ends_at(self) -> float:
        return self.started_at + len(self.pcm) / (2 * RATE_HZ)

    def run(self) -> None:
        for index, start in enumerate(range(0, len(self.pcm), FRAME_BYTES)):
            # Paced against the start time so the prompt does not drift or burst.
            delay = self.started_at + index * 0.02 - time.monotonic()
            if self.stopped.wait(max(0.0, delay)):
                return
            try:
                with self.send_lock:
                    self.sock.sendall(frame(KIND_AUDIO, self.pcm[start:start + FRAME_BYTES]))
            except OSError:
                return


def run_session(sock: socket.socket, session: StreamSession) -> dict[str, Any]:
    """Listen to one caller until a key, an answer, silence or hang-up."""
    send_lock = threading.Lock()
    player = _PromptPlayer(sock, session.prompt_pcm, send_lock)
    player.start()
    utterances = [(language, engine.name, engine.start(RATE_HZ, session.phrases))
                  for language, engine in session.engines]
    pending = b""
    voiced = 0
    speech_started: float | None = None
    preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
    quiet_ms = 0  # since the last loud frame, once the caller has started speaking
    whole_checked = False  # this pause already asked whether the answer is whole
    barged_in = False
    try:
        while True:
            now = time.monotonic()
            if speech_started is None and now - player.ends_at > session.timeout_ms / 1000:
                return {"ended": "silence"}
            if speech_started is not None and \
                    now - speech_started > session.max_answer_ms / 1000:
                return _answer(utterances, "limit", barged_in)
            ready, _w, _x = select.select([sock], [], [], 0.05)
            if not ready:
                continue
            received = read_frame(sock)
            if received is None or received[0] in (KIND_HANGUP, KIND_ERROR):
                return {"ended": "hangup"}
            kind, payload = received
            if kind == KIND_DTMF:
                return {"ended": "key", "key": payload.decode("ascii", errors="replace")[:1]}
            if kind != KIND_AUDIO:
                continue
            if is_loud(payload):
                voiced += 1
                quiet_ms, whole_checked = 0, False
                if voiced >= BARGE_IN_FRAMES and not player.stopped.is_set() and \
                        time.monotonic() < player.ends_at:
                    player.stopped.set()
                    barged_in = True
                if voiced >= MIN_VOICE_FRAMES and speech_started is None:
                    speech_started = time.monotonic()
            elif speech_started is not None:
                quiet_ms += len(payload) // BYTES_PER_MS
            if not voiced:
                # Nothing said yet: the decoder (the costly part) is not fed silence; the
                # last moments are kept for it, since a voice starts softer than it is loud.
                preroll.append(payload)
                continue
            if preroll:
                pending = b"".join(preroll)
                preroll.clear()
            pending += payload
            ask_whole = session.complete_ms > 0 and session.phrases and not whole_checked \
                and speech_started is not None and quiet_ms >= session.complete_ms
            if len(pending) < FEED_BYTES and not ask_whole:
                continue
            endpoint = False
            for _language, _name, utterance in utterances:
                if utterance is not None and utterance.accept(pending):
                    endpoint = True
            pending = b""
            if endpoint and speech_started is not None:
                return _answer(utterances, "speech", barged_in)
            if ask_whole:
                whole_checked = True  # once per pause: a partial result costs the decoder
                if any(utterance is not None and is_whole_phrase(utterance.so_far(),
                                                                 session.phrases)
                       for _language, _name, utterance in utterances):
                    return _answer(utterances, "speech", barged_in)
    finally:
        player.stopped.set()


def is_whole_phrase(heard: str, phrases: list[str]) -> bool:
    """The words heard are one of the phrases listened for (spacing aside: a Mandarin
    model may split 挂失 into 挂 失)."""
    said = "".join(heard.split())
    return bool(said) and any(said == "".join(phrase.split()) for phrase in phrases)


def _answer(utterances: list[tuple[str, str, Decoding | None]], ended: str,
            barged_in: bool) -> dict[str, Any]:
    results: list[tuple[str, Recognition]] = [
        (language, utterance.finish()) for language, _name, utterance in utterances
        if utterance is not None]
    if not results:
        return {"ended": ended, "text": "", "confidence": 0.0, "barged_in": barged_in}
    language, best = max(results, key=lambda r: (bool(r[1].text), r[1].confidence))
    return {"ended": ended, "text": best.text, "confidence": round(best.confidence, 4),
            "language": language, "barged_in": barged_in,
            "candidates": {lang: round(r.confidence, 4) for lang, r in results}}


class _AudioSocketHandler(socketserver.BaseRequestHandler):
    server: AudioSocketServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        first = read_frame(sock)
        if first is None or first[0] != KIND_UUID or len(first[1]) != 16:
            log.warning("AudioSocket connection without a call id; closed")
            return
        token = str(uuid.UUID(bytes=first[1]))
        session = self.server.sessions.claim(token)
        if session is None:
            log.warning("AudioSocket for an unknown or expired session; closed")
            sock.sendall(frame(KIND_HANGUP))
            return
        result: dict[str, Any] = {"ended": "hangup"}
        try:
            result = run_session(sock, session)
        except OSError as exc:
            result = {"ended": "hangup", "detail": str(exc)}
        finally:
            self.server.sessions.finish(session, result)
            try:
                sock.sendall(frame(KIND_HANGUP))  # ends the AudioSocket application
            except OSError:
                pass


class AudioSocketServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sessions: StreamSessions) -> None:
        self.sessions = sessions
        super().__init__(address, _AudioSocketHandler)


def start_audiosocket_server(sessions: StreamSessions, host: str,
                             port: int) -> AudioSocketServer:
    server = AudioSocketServer((host, port), sessions)
    threading.Thread(target=server.serve_forever, name="audiosocket", daemon=True).start()
    log.info("AudioSocket streaming on %s:%d", host, server.server_address[1])
    return server
