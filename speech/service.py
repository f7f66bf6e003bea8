"""The speech service: every configured model loaded once per host, recognition requests
from all calls served concurrently over a loopback socket.

Protocol: one JSON object per line each way (UTF-8).
  {"op": "status"}
      -> {"ok": true, "languages": {"ko": {"ready": true, "models": [...]}, ...},
          "busy": 0, "workers": 2, "rss_kb": ...}
  {"op": "recognise", "audio": "<wav path>", "languages": ["cmn"], "phrases": ["挂失", ...]}
      -> {"ok": true, "text": "...", "confidence": 0.93, "language": "cmn", "decode_ms": 31}
  {"op": "stream-open", "languages": [...], "phrases": [...], "timeout_ms": 5000,
   "max_answer_ms": 8000, "prompts": ["<8 kHz wav path>", ...]}
      -> {"ok": true, "uuid": "...", "port": <AudioSocket port>}   (see speech/streaming.py)
  {"op": "stream-result", "uuid": "...", "wait_s": 30}
      -> {"ok": true, "ended": "speech" | "key" | "silence" | "hangup" | "limit", "key": "4",
          "text": "...", "confidence": 0.9, "language": "ko", "barged_in": false}
  errors -> {"ok": false, "error": "overloaded" | "unavailable" | "bad-request" | "bad-audio"
             | "unknown-stream", "message": "..."}
A request waits at most `queue_wait_s` for a free worker, then is refused as overloaded:
callers are switched to keys instead of waiting.

Audio is passed as a path: Asterisk, the FastAGI server and this service share the host.
Must not import pyst2 or Asterisk.
"""

from __future__ import annotations

import json
import logging
import os
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from speech.models import ModelError, Registry, check_model
from speech.recogniser import Audio, Decoding, LoadedModel, Recognition, read_wav
from speech.streaming import MAX_COMPLETE_MS, RATE_HZ, StreamSession, StreamSessions

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024


class Engine(Protocol):
    name: str

    def recognise(self, audio: Audio, phrases: list[str]) -> Recognition: ...

    def start(self, rate_hz: int, phrases: list[str]) -> Decoding | None: ...


@dataclass
class LanguageModels:
    engines: list[Engine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_models(registry: Registry, models_dir: Path,
                load: Callable[..., Engine] = LoadedModel) -> dict[str, LanguageModels]:
    """Load each model named under `languages:` once (a model serving two tags is shared).
    A missing or corrupt model is logged with what to do; its language is keys-only."""
    loaded: dict[str, Engine | str] = {}
    languages: dict[str, LanguageModels] = {}
    for language, names in registry.languages.items():
        entry_models = languages.setdefault(language, LanguageModels())
        if not names:
            entry_models.problems.append("no model configured")
        for name in names:
            if name not in loaded:
                loaded[name] = _load_one(registry, models_dir, name, load)
            engine = loaded[name]
            if isinstance(engine, str):
                entry_models.problems.append(engine)
            else:
                entry_models.engines.append(engine)
        if not entry_models.engines:
            log.error("speech for '%s' is off, its callers use keys only: %s", language,
                      "; ".join(entry_models.problems))
    return languages


def _load_one(registry: Registry, models_dir: Path, name: str,
              load: Callable[..., Engine]) -> Engine | str:
    entry = registry.models[name]
    status = check_model(models_dir, name, entry, registry.locked(name))
    if not status.usable:
        return f"{name} {status.state}: {status.detail}"
    try:
        engine = load(name, status.path, entry)
    except ModelError as exc:
        return f"{name}: {exc}"
    log.info("loaded %s (%s) in %.1f s", name, status.state,
             getattr(engine, "load_s", 0.0))
    return engine


class SpeechService:
    def __init__(self, languages: dict[str, LanguageModels], *, workers: int = 2,
                 queue_wait_s: float = 1.0, max_streams: int = 200,
                 audiosocket_port: int | None = None) -> None:
        self.languages = languages
        self.workers = workers
        self.queue_wait_s = queue_wait_s
        self.max_streams = max_streams
        self.audiosocket_port = audiosocket_port  # None: streaming off
        self.streams = StreamSessions()
        self._slots = threading.BoundedSemaphore(workers)
        self._busy = 0
        self._lock = threading.Lock()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            return self.status()
        if op == "recognise":
            return self.recognise(request)
        if op == "stream-open":
            return self.open_stream(request)
        if op == "stream-result":
            return self.stream_result(request)
        return _error("bad-request", f"unknown op {op!r}")

    def status(self) -> dict[str, Any]:
        return {"ok": True, "busy": self._busy, "workers": self.workers, "rss_kb": rss_kb(),
                "streaming": self.streams.active,
                "audiosocket_port": self.audiosocket_port,
                "languages": {tag: {"ready": bool(models.engines),
                                    "models": [e.name for e in models.engines],
                                    "problems": models.problems}
                              for tag, models in self.languages.items()}}

    def _engines(self, languages: list[Any]) -> list[tuple[str, Engine]]:
        """The best model of each requested language that has one."""
        return [(str(tag), engine) for tag in languages
                for engine in self.languages.get(str(tag), LanguageModels()).engines[:1]]

    def open_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        languages = request.get("languages")
        phrases = request.get("phrases", [])
        prompts = request.get("prompts", [])
        timeout_ms = request.get("timeout_ms", 5000)
        max_answer_ms = request.get("max_answer_ms", 8000)
        complete_ms = request.get("complete_ms", 0)
        if not (isinstance(languages, list) and isinstance(phrases, list)
                and isinstance(prompts, list) and isinstance(timeout_ms, int)
                and isinstance(max_answer_ms, int) and isinstance(complete_ms, int)
                and 0 <= complete_ms <= MAX_COMPLETE_MS):
            return _error("bad-request", "need languages, phrases, prompts (lists), timeout_ms, "
                                         f"max_answer_ms and complete_ms (0-{MAX_COMPLETE_MS})")
        if self.audiosocket_port is None:
            return _error("unavailable", "streaming is off (no AudioSocket port)")
        engines = self._engines(languages)
        if not engines:
            return _error("unavailable", f"no model for {languages}")
        if self.streams.active >= self.max_streams:
            return _error("overloaded", f"{self.streams.active} callers already streaming")
        prompt_pcm = b""
        for path in prompts:
            try:
                audio = read_wav(Path(str(path)))
            except ModelError as exc:
                return _error("bad-audio", str(exc))
            if audio.rate_hz != RATE_HZ:
                return _error("bad-audio", f"{Path(str(path)).name}: prompts stream at 8 kHz")
            prompt_pcm += audio.pcm
        session = StreamSession(list(engines), [str(p) for p in phrases], timeout_ms,
                                max_answer_ms, prompt_pcm, complete_ms=complete_ms)
        token = self.streams.open(session)
        return {"ok": True, "uuid": token, "port": self.audiosocket_port}

    def stream_result(self, request: dict[str, Any]) -> dict[str, Any]:
        token = request.get("uuid")
        wait_s = request.get("wait_s", 30)
        if not isinstance(token, str) or not isinstance(wait_s, int | float):
            return _error("bad-request", "need uuid and wait_s")
        result = self.streams.wait(token, float(wait_s))
        if result is None:
            return _error("unknown-stream", "no such stream, or it has not ended")
        return {"ok": True, **result}

    def recognise(self, request: dict[str, Any]) -> dict[str, Any]:
        languages = request.get("languages")
        phrases = request.get("phrases", [])
        audio_path = request.get("audio")
        if not (isinstance(languages, list) and isinstance(phrases, list)
                and isinstance(audio_path, str)):
            return _error("bad-request", "need audio (path), languages (list), phrases (list)")
        engines = self._engines(languages)
        if not engines:
            return _error("unavailable", f"no model for {languages}")
        try:
            audio = read_wav(Path(audio_path))
        except ModelError as exc:
            return _error("bad-audio", str(exc))
        if not self._slots.acquire(timeout=self.queue_wait_s):
            return _error("overloaded", f"all {self.workers} workers busy")
        with self._lock:
            self._busy += 1
        try:
            results = [(tag, engine.recognise(audio, [str(p) for p in phrases]))
                       for tag, engine in engines]
        finally:
            with self._lock:
                self._busy -= 1
            self._slots.release()
        # Several candidate languages (dialect detection): the model that understood best.
        tag, best = max(results, key=lambda r: (bool(r[1].text), r[1].confidence))
        log.debug("recognised %r (%s, %.2f) in %d ms", best.text, tag, best.confidence,
                  best.decode_ms)
        return {"ok": True, "text": best.text, "confidence": round(best.confidence, 4),
                "language": tag, "decode_ms": sum(r.decode_ms for _t, r in results),
                "audio_ms": audio.duration_ms,
                "candidates": {t: round(r.confidence, 4) for t, r in results}}


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": kind, "message": message}


def rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(MAX_REQUEST_BYTES)
            if not line:
                return
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("not an object")
                reply = self.server.service.handle(request)
            except ValueError as exc:
                reply = _error("bad-request", f"not a JSON request: {exc}")
            self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: SpeechService) -> None:
        self.service = service
        super().__init__(address, _Handler)


def start_server(service: SpeechService, host: str, port: int) -> _Server:
    """Listen (in a background thread); `.shutdown()` stops it."""
    server = _Server((host, port), service)
    threading.Thread(target=server.serve_forever, name="speech-service", daemon=True).start()
    log.info("speech service on %s:%d (pid %d)", host, server.server_address[1], os.getpid())
    return server
