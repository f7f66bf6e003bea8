"""A strict fake of Asterisk's side of an AGI session, for contract tests.

It sends the AGI environment, then plays a script: each step names the exact command line it
expects and the reply to give. Any other command, a missing command or a command after the
script ends fails the test.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import BinaryIO

DEFAULT_ENV = {
    "agi_network": "yes",
    "agi_network_script": "hotline",
    "agi_request": "agi://127.0.0.1:4573/hotline",
    "agi_channel": "PJSIP/trunk-00000001",
    "agi_language": "en",
    "agi_type": "PJSIP",
    "agi_uniqueid": "1700000000.1",
    "agi_version": "22.10.1",
    "agi_callerid": "13800001234",
    "agi_calleridname": "unknown",
    "agi_context": "hotline-inbound",
    "agi_extension": "s",
    "agi_priority": "4",
    "agi_enhanced": "0.0",
}


@dataclass(frozen=True)
class Expect:
    """Expect exactly `command` (without newline), answer with `reply` lines."""

    command: str
    reply: tuple[str, ...] = ("200 result=1",)


class ContractViolation(AssertionError):
    pass


class FakeAsterisk:
    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader = reader
        self.writer = writer
        self.received: list[str] = []

    @classmethod
    def connect(cls, port: int, timeout_s: float = 10.0) -> FakeAsterisk:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        return cls(sock.makefile("rb"), sock.makefile("wb"))

    def __enter__(self) -> FakeAsterisk:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def send_env(self, **overrides: str) -> None:
        env = {**DEFAULT_ENV, **overrides}
        payload = "".join(f"{key}: {value}\n" for key, value in env.items()) + "\n"
        self._write(payload)

    def _write(self, text: str) -> None:
        self.writer.write(text.encode("utf-8"))
        self.writer.flush()

    def read_command(self) -> str | None:
        raw = self.reader.readline()
        if not raw:
            return None
        line = raw.decode("utf-8").rstrip("\n")
        self.received.append(line)
        return line

    def play(self, steps: list[Expect]) -> None:
        for step in steps:
            got = self.read_command()
            if got != step.command:
                raise ContractViolation(f"expected {step.command!r}, got {got!r}; "
                                        f"so far {self.received!r}")
            self._write("".join(line + "\n" for line in step.reply))

    def expect_closed(self) -> None:
        extra = self.read_command()
        if extra is not None:
            raise ContractViolation(f"expected the session to end, got {extra!r}")

    def close(self) -> None:
        for stream in (self.reader, self.writer):
            try:
                stream.close()
            except OSError:
                pass
