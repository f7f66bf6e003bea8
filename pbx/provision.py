"""Find or provision Asterisk 22, in this order:
1. an `asterisk` already on PATH (version 22 or newer);
2. a root this project provisioned before (reused, never rebuilt);
3. the distribution's package, where the distribution has a new enough one (Ubuntu);
4. a small Debian unstable root built with mmdebstrap, run with chroot.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runtime.host import ProvisionError, apt_install, tail_of

__all__ = ["AsteriskInstallation", "ProvisionError", "apt_install", "find_or_provision"]

log = logging.getLogger(__name__)

MIN_MAJOR = 22
ASTERISK_BINARY = "/usr/sbin/asterisk"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_VERSION = re.compile(r"Asterisk (?P<version>(?P<major>\d+)\.[\w.+~-]+)")


@dataclass(frozen=True)
class AsteriskInstallation:
    """An Asterisk we can run: on the host (`root` is None) or inside a chroot."""

    how: str  # "host" or "chroot"
    root: Path | None
    binary: str  # path as seen from inside `root`
    modules_dir: str
    data_dir: str
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    def run(self, *args: str, timeout_s: float = 30) -> subprocess.CompletedProcess[str]:
        prefix = ["chroot", str(self.root)] if self.root is not None else []
        return subprocess.run([*prefix, self.binary, *args], capture_output=True, text=True,
                              timeout=timeout_s, check=False)


def find_or_provision(root: Path, *, allow_provision: bool = True) -> AsteriskInstallation:
    host = _host_installation()
    if host is not None:
        return host
    existing = _chroot_installation(root)
    if existing is not None:
        return existing
    if not allow_provision:
        raise ProvisionError(
            "no Asterisk 22 found: run `hotline asterisk provision` (or `make asterisk`) first")
    _require_root("provisioning Asterisk installs packages")
    if _distribution_has_asterisk():
        apt_install("asterisk")
        host = _host_installation()
        if host is not None:
            return host
    _build_debian_root(root)
    built = _chroot_installation(root)
    if built is None:
        raise ProvisionError(f"the Debian root at {root} has no usable Asterisk {MIN_MAJOR}")
    return built


def _host_installation() -> AsteriskInstallation | None:
    binary = shutil.which("asterisk")
    if binary is None:
        return None
    version = _version_of([binary])
    if version is None or int(version.split(".")[0]) < MIN_MAJOR:
        log.warning("ignoring %s: version %s is older than %d", binary, version, MIN_MAJOR)
        return None
    return AsteriskInstallation("host", None, binary, _modules_dir(Path("/")),
                                "/usr/share/asterisk", version)


def _chroot_installation(root: Path) -> AsteriskInstallation | None:
    if not (root / ASTERISK_BINARY.lstrip("/")).exists():
        return None
    version = _version_of(["chroot", str(root), ASTERISK_BINARY])
    if version is None:
        return None
    return AsteriskInstallation("chroot", root, ASTERISK_BINARY, _modules_dir(root),
                                "/usr/share/asterisk", version)


def _version_of(command: list[str]) -> str | None:
    try:
        done = subprocess.run([*command, "-V"], capture_output=True, text=True, timeout=30,
                              check=False)
    except OSError:
        return None
    match = _VERSION.search(done.stdout)
    return match.group("version") if match else None


def _modules_dir(root: Path) -> str:
    for pattern in ("usr/lib/*/asterisk/modules", "usr/lib/asterisk/modules",
                    "usr/lib64/asterisk/modules"):
        for found in sorted(glob.glob(str(root / pattern))):
            if (Path(found) / "app_queue.so").exists():
                return "/" + str(Path(found).relative_to(root))
    raise ProvisionError(f"Asterisk modules (app_queue.so) not found under {root}")


def _require_root(why: str) -> None:
    if os.geteuid() != 0:
        raise ProvisionError(
            f"{why} and needs root (apt-get, mmdebstrap, chroot). Run the same command as "
            "root, e.g. `sudo make demo`.")


def _distribution_has_asterisk() -> bool:
    """True when apt offers an `asterisk` package of a new enough version."""
    if shutil.which("apt-cache") is None:
        return False
    done = subprocess.run(["apt-cache", "policy", "asterisk"], capture_output=True, text=True,
                          check=False)
    match = re.search(r"Candidate:\s*(?:\d+:)?(\d+)\.", done.stdout)
    return match is not None and int(match.group(1)) >= MIN_MAJOR


def debian_mirror() -> str:
    """The Debian mirror this machine's own apt sources name (unstable comes from there)."""
    override = os.environ.get("HOTLINE_DEBIAN_MIRROR")
    if override:
        return override
    candidates: list[str] = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        candidates += re.findall(r"^URIs:\s*(\S+)", Path(path).read_text(), re.MULTILINE)
    sources_list = Path("/etc/apt/sources.list")
    if sources_list.exists():
        candidates += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", sources_list.read_text(),
                                 re.MULTILINE)
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    return DEFAULT_MIRROR


def _build_debian_root(root: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        apt_install("mmdebstrap")
    mirror = debian_mirror()
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "mmdebstrap", "--variant=apt", "--quiet",
        # Unstable's Release file can be past its Valid-Until on mirrors and snapshots.
        "--aptopt=Acquire::Check-Valid-Until \"false\"",
        "--include=asterisk", "sid", str(partial), mirror,
    ]
    log.info("building a Debian unstable root with Asterisk from %s (about 20 s)", mirror)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise ProvisionError(
            f"mmdebstrap could not build the Asterisk root from {mirror} (exit "
            f"{done.returncode}). The first provisioning needs network access to a Debian "
            "mirror; set HOTLINE_DEBIAN_MIRROR to use another one.\n"
            + tail_of(done.stderr or done.stdout))
    # Only a complete root gets the final name, so a broken build is never reused.
    partial.rename(root)

