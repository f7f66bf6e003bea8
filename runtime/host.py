"""Host helpers shared by every layer that runs on a machine: installing Debian packages,
telling whether a process of ours is alive, waiting for it, and probing a loopback port."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class ProvisionError(RuntimeError):
    """Something this host needs (Asterisk, a Debian package) cannot be installed; the
    message says what to do."""


def apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
        log.info("running %s", " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise ProvisionError(
                f"`{' '.join(command)}` failed (exit {done.returncode}). The first provisioning "
                "needs network access to the distribution's package mirror.\n"
                + tail_of(done.stderr or done.stdout))


def program_from_debian(program: str, package: str) -> str:
    """The path of `program`, installing Debian's `package` first when it is not on PATH."""
    found = shutil.which(program)
    if found:
        return found
    apt_install(package)
    found = shutil.which(program)
    if not found:
        raise ProvisionError(f"{package} is installed but {program} is not on PATH")
    return found


def tail_of(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def alive(pid: int, markers: list[bytes]) -> bool:
    """Alive (not a zombie) and really ours: a recycled pid must not be mistaken for it."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return all(m in cmdline for m in markers) and ") Z " not in stat


def wait_gone(pid: int, timeout_s: float, still_there: Callable[[], object]) -> bool:
    """Wait until `still_there()` is falsy, reaping our child so it does not linger."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reap(pid)
        if not still_there():
            return True
        time.sleep(0.1)
    return False


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
