"""Client of the speech service (see speech/service.py for the protocol). Every failure —
refused connection, timeout, overload, no model — is a SpeechUnavailable, so a call
switches to keys instead of waiting.

Must not import pyst2, Asterisk or vosk.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.ports import SpeechUnavailable

STATUS_FRESH_S = 2.0  # a status this recent is trusted (one round trip per menu otherwise)


@dataclass(frozen=True)
class Result:
    text: str
    confidence: float
    language: str
    decode_ms: int


class SpeechClient:
    def __init__(self, host: str, port: int, *, timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self._status: tuple[float, dict[str, Any]] | None = None

    def ready_languages(self) -> set[str]:
        """Languages the service can hear now (cached briefly). Raises SpeechUnavailable."""
        now = time.monotonic()
        if self._status is None or now - self._status[0] > STATUS_FRESH_S:
            self._status = (now, self._ask({"op": "status"}, timeout_s=1.0))
        languages = self._status[1].get("languages", {})
        return {tag for tag, info in languages.items() if info.get("ready")}

    def recognise(self, audio: Path, languages: list[str], phrases: list[str]) -> Result:
        reply = self._ask({"op": "recognise", "audio": str(audio), "languages": languages,
                           "phrases": phrases}, timeout_s=self.timeout_s)
        return Result(str(reply.get("text", "")), float(reply.get("confidence", 0.0)),
                      str(reply.get("language", languages[0])), int(reply.get("decode_ms", 0)))

    def open_stream(self, languages: list[str], phrases: list[str], timeout_ms: int,
                    max_answer_ms: int, prompts: list[Path],
                    complete_ms: int = 0) -> tuple[str, int]:
        """A streaming session for Asterisk's AudioSocket to connect to: (uuid, port).
        `complete_ms`: the pause that ends an answer once it is a whole phrase (0: none)."""
        reply = self._ask({"op": "stream-open", "languages": languages, "phrases": phrases,
                           "timeout_ms": timeout_ms, "max_answer_ms": max_answer_ms,
                           "prompts": [str(p) for p in prompts],
                           "complete_ms": complete_ms}, timeout_s=2.0)
        return str(reply["uuid"]), int(reply["port"])

    def stream_result(self, token: str, wait_s: float = 5.0) -> dict[str, Any]:
        return self._ask({"op": "stream-result", "uuid": token, "wait_s": wait_s},
                         timeout_s=wait_s + 2.0)

    def status(self) -> dict[str, Any]:
        return self._ask({"op": "status"}, timeout_s=1.0)

    def _ask(self, request: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout_s) as sock:
                sock.sendall(json.dumps(request, ensure_ascii=False).encode() + b"\n")
                reply = _read_line(sock)
        except OSError as exc:  # refused, reset, timed out
            raise SpeechUnavailable(f"speech service at {self.host}:{self.port}: {exc}") from exc
        try:
            answer = json.loads(reply)
        except ValueError as exc:
            raise SpeechUnavailable(f"speech service sent garbage: {reply[:80]!r}") from exc
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else "garbage"
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            raise SpeechUnavailable(f"speech service: {error} {message}".strip())
        return answer


def _read_line(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)
