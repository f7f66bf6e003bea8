"""Start, stop and inspect one Asterisk instance (one runtime folder).

A chroot-provisioned Asterisk runs in a private mount namespace in which the runtime folder is
bind-mounted into the root at the same absolute path: recordings, prompts and config have one
path on both sides, and the mount disappears with the process, so `down` leaves nothing behind.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pbx import config
from pbx.ami import Ami, AmiError
from pbx.provision import AsteriskInstallation, ProvisionError
from runtime.host import alive, wait_gone
from runtime.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class AsteriskStatus:
    running: bool
    pid: int | None = None
    version: str | None = None
    detail: str = ""


class AsteriskInstance:
    def __init__(self, settings: Settings, installation: AsteriskInstallation,
                 shared_paths: tuple[Path, ...] = ()) -> None:
        """`shared_paths`: host folders a chrooted Asterisk also sees at the same place
        (classic AGI programs need their interpreter and code); the runtime folder always."""
        self.settings = settings
        self.installation = installation
        self.shared_paths = shared_paths

    @property
    def pid_file(self) -> Path:
        return self.settings.run_dir / "asterisk.pid"

    @property
    def console_log(self) -> Path:
        return self.settings.log_dir / "asterisk-console.log"

    def ami(self) -> Ami:
        return Ami("127.0.0.1", self.settings.ami_port, config.AMI_USER,
                   config.ami_secret(self.settings))

    def up(self) -> AsteriskStatus:
        """Start Asterisk unless it already runs (then reload the freshly rendered config)."""
        conf = config.render(self.settings, self.installation)
        current = self.status()
        if current.running:
            try:
                with self.ami() as ami:
                    ami.command("core reload")
            except AmiError:
                # Reloading the manager module may drop this very connection: fine if
                # Asterisk still answers afterwards.
                after = self.status()
                if not after.running:
                    raise
            return current
        self._clear_stale_pid()
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.console_log, "ab") as console:
            process = subprocess.Popen(self._start_command(conf), stdin=subprocess.DEVNULL,
                                       stdout=console, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.pid_file.write_text(f"{process.pid}\n")
        return self._wait_ready(process)

    def _start_command(self, conf: Path) -> list[str]:
        install = self.installation
        asterisk = [install.binary, "-f", "-n", "-C", str(conf)]
        if install.root is None:
            return asterisk
        if os.geteuid() != 0:
            raise ProvisionError("running Asterisk in its Debian root needs root (chroot)")
        binds: list[str] = []
        for shared in (self.settings.runtime_dir, *self.shared_paths):
            mount_point = install.root / str(shared).lstrip("/")
            mount_point.mkdir(parents=True, exist_ok=True)
            binds += [str(shared), str(mount_point)]
        # unshare, sh and chroot all exec in place, so the pid we get is Asterisk's own.
        # --rbind: a volume mounted inside the runtime folder (recordings on their own disk)
        # is what Asterisk writes to, not the empty folder beneath it.
        script = ('while [ "$1" != -- ]; do mount --rbind "$1" "$2" || exit 1; shift 2; done; '
                  'shift; exec chroot "$@"')
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                "hotline-asterisk", *binds, "--", str(install.root), *asterisk]

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> AsteriskStatus:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ProvisionError(
                    f"Asterisk exited during start-up (exit {process.returncode}); see "
                    f"{self.console_log}:\n{_tail(self.console_log)}")
            status = self.status()
            if status.running:
                with self.ami() as ami:
                    ami.command("core waitfullybooted")
                return status
            time.sleep(0.3)
        self.down()
        raise ProvisionError(f"Asterisk did not answer on AMI within {START_TIMEOUT_S:.0f} s; "
                             f"see {self.console_log}")

    def status(self) -> AsteriskStatus:
        pid = self._read_pid()
        if pid is None or not _alive(pid):
            return AsteriskStatus(False, detail="not running")
        try:
            with self.ami() as ami:
                version = ami.version()
        except AmiError as exc:
            return AsteriskStatus(False, pid, detail=f"process {pid} alive, AMI not ready: "
                                                      f"{exc}")
        return AsteriskStatus(True, pid, version, "running")

    def down(self) -> bool:
        """Stop Asterisk; True when one was running. Idempotent."""
        pid = self._read_pid()
        if pid is None or not _alive(pid):
            self._clear_stale_pid()
            return False
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, STOP_TIMEOUT_S):
            log.warning("Asterisk %d ignored SIGTERM; killing it", pid)
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _clear_stale_pid(self) -> None:
        self.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Alive and really Asterisk (a recycled pid must not be mistaken for it)."""
    return alive(pid, [b"asterisk"])


def _wait_gone(pid: int, timeout_s: float) -> bool:
    return wait_gone(pid, timeout_s, lambda: _alive(pid))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no console log)"
