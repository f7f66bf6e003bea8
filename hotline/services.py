"""The FastAGI server as a background service of one runtime folder (pid file + log)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hotline.settings import Settings

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 70.0  # the server drains calls in progress for up to 60 s


class ServiceError(RuntimeError):
    pass


class FastAgiService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def pid_file(self) -> Path:
        return self.settings.run_dir / "fastagi.pid"

    @property
    def log_file(self) -> Path:
        return self.settings.log_dir / "fastagi.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"hotline" in cmdline and b"serve" in cmdline else None

    def up(self) -> int:
        running = self.pid()
        if running is not None:
            return running
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "hotline", "serve", "--host", self.settings.agi_host,
                   "--port", str(self.settings.agi_port)]
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceError(f"FastAGI server exited (code {process.returncode}); "
                                   f"see {self.log_file}")
            if _accepts(self.settings.agi_host, self.settings.agi_port):
                return process.pid
            time.sleep(0.1)
        raise ServiceError(f"FastAGI server did not listen within {START_TIMEOUT_S:.0f} s")

    def reload(self) -> bool:
        """Ask the running server to re-read the menus (SIGHUP). False if it is not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGHUP)
        return True

    def down(self) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and self.pid() is not None:
            _reap(pid)
            time.sleep(0.1)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
