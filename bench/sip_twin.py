"""The SIP callers' line: SIPp's 3PCC twin socket (the protocol in bench.sip_caller). SIPp
connects to it as it starts, reports each call answered with its plan, each act done and
each call ended; the director's acts go back as numbered twin commands."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from bench.director import Act, Director
from bench.sip_caller import HANG_UP_ACT, KEYS_ACT, SILENCE_BEFORE_MS, SOUND_ACTS, keys_play_ms

TWIN_DELIMITER = b"\x1b"  # SIPp ends every twin message with ESC


class SippTwin:
    lead_ms = SILENCE_BEFORE_MS

    def __init__(self, director: Director, sounds: list[str],
                 address: tuple[str, int]) -> None:
        """`sounds`: the "say=<sound>" names in SIPp's act order; `address` to listen on
        (port 0: any free one)."""
        self.director = director
        self.sounds = sounds
        self._address = address
        self._server = socket.socket()
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    def listen(self) -> tuple[str, int]:
        """Listen before starting SIPp: its first twin command is a sendCmd, which makes it
        the connecting side."""
        self._server = socket.create_server(self._address)
        self._server.settimeout(0.2)
        host, port = self._server.getsockname()[:2]
        return str(host), int(port)

    def accept(self, running: Callable[[], bool], deadline_s: float = 20.0) -> None:
        deadline = time.monotonic() + deadline_s
        while self._sock is None:
            try:
                self._sock, _peer = self._server.accept()
            except TimeoutError as exc:
                if time.monotonic() > deadline or not running():
                    raise RuntimeError("SIPp did not connect to its twin socket (see its "
                                       "errors.log in the run folder)") from exc
        self._server.close()
        self._sock.settimeout(0.2)
        self._reader = threading.Thread(target=self._read, name="sip-twin", daemon=True)
        self._reader.start()

    def stop(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(3)
        if self._sock is not None:
            self._sock.close()
        self._server.close()

    def send(self, line_id: str, act: Act) -> None:
        if act.kind == "say":
            command = f"Act: {SOUND_ACTS + self.sounds.index(act.sound)}"
        elif act.kind == "keys":
            command = f"Act: {KEYS_ACT}\r\nKeys: {act.keys}\r\nPlayMs: {keys_play_ms(act.keys)}"
        elif act.kind == "hang_up":
            command = f"Act: {HANG_UP_ACT}"
        else:
            raise ValueError(f"SIPp callers cannot {act.kind}: {act.sound or act.keys}")
        assert self._sock is not None
        with self._send_lock:
            self._sock.sendall(f"Call-ID: {line_id}\r\n{command}\r\n\r\n".encode()
                               + TWIN_DELIMITER)

    def _read(self) -> None:
        buffer = b""
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return  # SIPp has finished
            buffer += chunk
            *messages, buffer = buffer.split(TWIN_DELIMITER)
            for message in messages:
                if message.strip():
                    self._message(message.decode("utf-8", "replace"))

    def _message(self, message: str) -> None:
        headers = dict(line.split(":", 1) for line in message.splitlines() if ":" in line)
        headers = {name.strip(): value.strip() for name, value in headers.items()}
        call, done = headers.get("Call-ID", ""), headers.get("Done", "")
        if done == "answered":
            plan = headers.get("Plan", "")
            if plan.isdigit():
                self.director.answered(int(plan), call)
        elif done == "ended":
            self.director.call_ended(call)
        elif done:
            self.director.act_done(call)
