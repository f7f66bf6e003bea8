"""Background services of one runtime folder (pid file + log): the FastAGI server, the
speech service, the call-records service and the console, each a `python -m hotline ...`
process listening on loopback, and the keeper that restarts them (services/keeper.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from runtime.host import accepts, alive, wait_gone
from runtime.settings import Settings

START_TIMEOUT_S = 15.0
SPEECH_START_TIMEOUT_S = 180.0  # large models take a while to load
STOP_TIMEOUT_S = 70.0  # the FastAGI server drains calls in progress for up to 60 s
SETTLE_S = 0.5  # a service without a port is started once it has lived this long


class ServiceError(RuntimeError):
    pass


class BackgroundService:
    def __init__(self, settings: Settings, name: str, arguments: list[str], port: int | None,
                 start_timeout_s: float = START_TIMEOUT_S, module: str = "hotline",
                 niceness: int = 0) -> None:
        self.settings = settings
        self.name = name
        self.module = module
        self.arguments = arguments  # after `python -m <module>`; also identifies the process
        self.port = port  # None: the service listens on nothing
        self.start_timeout_s = start_timeout_s
        self.niceness = niceness  # > 0: yields the CPU to callers' processes when busy

    @property
    def pid_file(self) -> Path:
        return self.settings.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.settings.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if alive(pid, [self.module.encode(),
                                  *(a.encode() for a in self.arguments[:2])]) \
            else None

    def up(self) -> int:
        running = self.pid()
        if running is not None:
            return running
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", self.module, *self.arguments]
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, **self.settings.environment()})
        self.pid_file.write_text(f"{process.pid}\n")
        # Set, not inherited: a keeper or benchmark thread that starts it may run niced.
        # Only root may raise a priority; otherwise the inherited one stays.
        with contextlib.suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, process.pid, self.niceness)
        started = time.monotonic()
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceError(f"{self.name} exited (code {process.returncode}); "
                                   f"see {self.log_file}")
            if self.port is None:
                if time.monotonic() - started >= SETTLE_S:
                    return process.pid
            elif accepts(self.settings.agi_host, self.port):
                return process.pid
            time.sleep(0.1)
        raise ServiceError(f"{self.name} did not listen within {self.start_timeout_s:.0f} s; "
                           f"see {self.log_file}")

    def signal(self, number: int) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, number)
        return True

    def down(self) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, STOP_TIMEOUT_S, self.pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


class FastAgiService(BackgroundService):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "fastagi", ["serve", "--host", settings.agi_host, "--port",
                                               str(settings.agi_port)], settings.agi_port)

    def reload(self) -> bool:
        """Ask the running server to re-read the menus (SIGHUP). False if it is not running."""
        return self.signal(signal.SIGHUP)


class SpeechServiceProcess(BackgroundService):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "speech", ["speech", "serve", "--port",
                                              str(settings.speech_port)],
                         settings.speech_port, SPEECH_START_TIMEOUT_S)


# Work no caller waits for: it reads the spool and AMI, so it may lag a busy moment and catch
# up after, losing nothing; at full load it must not take CPU from the calls' own steps.
BACKGROUND_NICENESS = 10


class RecorderService(BackgroundService):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "records", ["records", "serve", "--port",
                                               str(settings.recorder_port)],
                         settings.recorder_port, niceness=BACKGROUND_NICENESS)


class ConsoleService(BackgroundService):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "console", ["console", "serve", "--port",
                                               str(settings.console_port)],
                         settings.console_port, niceness=BACKGROUND_NICENESS)


class KeeperService(BackgroundService):
    """`hotline keep`: restarts the other services when they die (services/keeper.py)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "keeper", ["keep"], None)

    @property
    def state_file(self) -> Path:
        return self.settings.run_dir / "keeper.json"


def kept_services(settings: Settings) -> list[BackgroundService]:
    """What the keeper keeps running, in the order `hotline up` starts them."""
    return [RecorderService(settings), SpeechServiceProcess(settings),
            FastAgiService(settings), ConsoleService(settings)]

