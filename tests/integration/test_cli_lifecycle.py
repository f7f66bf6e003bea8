"""`hotline asterisk up|status|down` and `hotline up|call|down` as an operator runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from speech.audio import inspect
from tests.support import free_port

HOTLINE = str(Path(sys.executable).parent / "hotline")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOTLINE, *args], env=env, capture_output=True, text=True,
                          timeout=180, check=False)


def wait_for_new_pid(pid_file: Path, old_pid: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            pid = old_pid
        if pid != old_pid and running(pid):
            return pid
        time.sleep(0.2)
    raise AssertionError(f"nothing restarted the service within {timeout_s} s")


def keeper_status(env: dict[str, str], restarted: int,
                  timeout_s: float = 10.0) -> tuple[subprocess.CompletedProcess[str], str]:
    """`hotline status` and its fastagi row once the keeper has noted the restart: the new
    server writes its pid file before the keeper saves what it did."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = run(env, "status")
        row = next((line for line in status.stdout.splitlines() if "fastagi" in line), "")
        if (str(restarted) in row and " 1 " in row) or time.monotonic() > deadline:
            return status, row
        time.sleep(0.5)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def operator_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "HOTLINE_RUNTIME_DIR": str(tmp_path / "var"),
            "HOTLINE_AGI_PORT": str(free_port()), "HOTLINE_AMI_PORT": str(free_port()),
            "HOTLINE_SIP_PORT": str(free_port()), "HOTLINE_RTP_START": "32000",
            "HOTLINE_WEBRTC_PORT": str(free_port()),
            "HOTLINE_SPEECH_PORT": str(free_port()),
            "HOTLINE_AUDIOSOCKET_PORT": str(free_port())}


def test_asterisk_up_status_down(operator_env: dict[str, str]) -> None:
    try:
        first = run(operator_env, "asterisk", "up")
        assert first.returncode == 0, first.stdout + first.stderr
        status = run(operator_env, "asterisk", "status")
        assert status.returncode == 0 and "Asterisk 22." in status.stdout, status.stdout
        pid = (Path(operator_env["HOTLINE_RUNTIME_DIR"]) / "run/asterisk.pid").read_text()
        again = run(operator_env, "asterisk", "up")  # idempotent: reuses the running one
        assert again.returncode == 0 and f"pid {pid.strip()}" in again.stdout, (
            again.stdout + again.stderr)
    finally:
        down = run(operator_env, "asterisk", "down")
    assert down.returncode == 0 and "Asterisk stopped" in down.stdout
    after = run(operator_env, "asterisk", "status")
    assert after.returncode == 3 and "not running" in after.stdout
    assert not running(int(pid))
    assert run(operator_env, "asterisk", "down").stdout.strip() == "Asterisk was not running"


def test_hotline_up_call_reload_down(operator_env: dict[str, str]) -> None:
    built = run(operator_env, "prompts", "build")
    assert built.returncode == 0, built.stdout + built.stderr
    try:
        up = run(operator_env, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "speech service running" in up.stdout and "keys only" in up.stdout, up.stdout
        assert "keeper (pid" in up.stdout, up.stdout
        # The FastAGI server crashes: the keeper brings it back, nobody types a command.
        run_dir = Path(operator_env["HOTLINE_RUNTIME_DIR"]) / "run"
        crashed = int((run_dir / "fastagi.pid").read_text())
        os.kill(crashed, signal.SIGKILL)
        restarted = wait_for_new_pid(run_dir / "fastagi.pid", crashed, timeout_s=15)
        status, fastagi_row = keeper_status(operator_env, restarted)
        assert status.returncode == 0, status.stdout + status.stderr
        assert str(restarted) in fastagi_row and " 1 " in fastagi_row, status.stdout
        assert "exited" in fastagi_row, status.stdout
        # Lost card is key 1 then 1 both in and out of business hours: the real clock is fine.
        heard = Path(operator_env["HOTLINE_RUNTIME_DIR"]).parent / "heard.wav"
        call = run(operator_env, "call", "--transcript", "lost-card-mandarin",
                   "--save-audio", str(heard))
        assert call.returncode == 0, call.stdout + call.stderr
        assert "IVR_QUEUE = cards-priority-cmn" in call.stdout
        assert "The real call ended as the transcript expects." in call.stdout, call.stdout
        # What the caller heard, saved to listen to: at least the greeting, the disclosure
        # and the language menu, and speech rather than silence.
        assert f"What the caller heard: {heard}" in call.stdout, call.stdout
        recording = inspect(heard)
        manifest = json.loads((Path(operator_env["HOTLINE_RUNTIME_DIR"]) / "prompts" /
                               "manifest.json").read_text())
        before_choice = sum(int(manifest[f"cmn/{p}"]["duration_ms"]) for p in (
            "welcome.greeting", "compliance.recording_disclosure", "lang.choose_cmn"))
        assert recording.duration_ms >= before_choice, (recording, before_choice)
        assert recording.dbfs > -45, recording
        reload = run(operator_env, "reload")
        assert reload.returncode == 0 and "Asked the FastAGI server" in reload.stdout
    finally:
        down = run(operator_env, "down")
    assert "FastAGI server stopped; speech service stopped; Asterisk stopped" in down.stdout
    assert not running(restarted)  # the keeper went first and brought nothing back
    assert "the keeper is not running" in run(operator_env, "status").stdout
    fastagi_log = (Path(operator_env["HOTLINE_RUNTIME_DIR"]) / "log/fastagi.log").read_text()
    assert "route=hotline end=completed" in fastagi_log
    assert "menus" in fastagi_log and "loaded" in fastagi_log
    assert "13900000000" not in fastagi_log  # the transcript's calling number is never logged
