"""The real `hotline serve` and `hotline-agi` processes against the strict fake Asterisk."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import BinaryIO

import pytest

from tests.fake_asterisk import Expect, FakeAsterisk
from tests.support import OVERLAY, free_port

CALLER_NUMBER = "13800001234"
PRESS_1 = [
    Expect('STREAM FILE "hello-world" "0123456789*#"', ("200 result=49 endpos=4000",)),
    Expect('SET VARIABLE "IVR_REASON" "choice-made"'),
    Expect('SET VARIABLE "IVR_CHOICE" "1"'),
    Expect('SET VARIABLE "IVR_OUTCOME" "hangup"'),
]
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
# The processes serve the tests' starter route from the tests' own overlay: the hotline's
# route table has no test routes.
OVERLAY_ENV = {**os.environ, "HOTLINE_ROUTES_OVERLAY": OVERLAY, "PYTHONPATH": str(ROOT)}


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("hotline serve did not listen")


def test_sigterm_finishes_the_call_in_progress_and_refuses_new_ones() -> None:
    port = free_port()
    server = subprocess.Popen([str(BIN / "hotline"), "-v", "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=OVERLAY_ENV)
    try:
        wait_listening(port, server)
        call = FakeAsterisk.connect(port)
        call.send_env(agi_callerid=CALLER_NUMBER, agi_network_script="starter")
        assert call.read_command() == 'STREAM FILE "hello-world" "0123456789*#"'
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        call._write("200 result=49 endpos=4000\n")
        call.play(PRESS_1[1:])
        call.expect_closed()
        call.close()
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
    output = server.stdout.read().decode() if server.stdout else ""
    assert "call 1700000000.1 route=starter end=completed" in output
    # Even at debug level: no caller number, no AGI environment, no pyst2 chatter.
    for secret in (CALLER_NUMBER, "agi_callerid", "ENV LINE", "RESULT_LINE", "result=49"):
        assert secret not in output


def test_classic_agi_entry_serves_the_same_dialog_over_stdin_stdout() -> None:
    process = subprocess.Popen([str(BIN / "hotline-agi"), "starter"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=OVERLAY_ENV)
    assert process.stdin is not None and process.stdout is not None
    fake = FakeAsterisk(typing.cast(BinaryIO, process.stdout), typing.cast(BinaryIO, process.stdin))
    fake.send_env(agi_network="no", agi_network_script="", agi_arg_1="starter",
                  agi_callerid=CALLER_NUMBER)
    fake.play(PRESS_1)
    fake.expect_closed()
    assert process.wait(timeout=10) == 0
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert CALLER_NUMBER not in stderr and "ENV LINE" not in stderr
