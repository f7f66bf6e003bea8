"""Where Asterisk spends its CPU under load, measured: `perf record` (cpu-clock samples, which
need no hardware counters) of the running Asterisk for a while, then `perf report` by shared
object and by function. Asterisk runs in its Debian root: perf reads its binaries there
(`--symfs`). Linux only; perf comes from Debian's `linux-perf` (bench.sip_load installs it).
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

SAMPLES_PER_S = 499  # odd, so sampling does not beat with Asterisk's 20 ms media timers
TOP = 15


@dataclass
class Profile:
    """The heaviest shared objects and functions, as perf prints them (% of samples)."""

    by_object: list[str] = field(default_factory=list)
    by_function: list[str] = field(default_factory=list)
    problem: str = ""


class AsteriskProfiler:
    """Samples process `pid` for `seconds` once `start_after_s` have passed (the ramp's end,
    when every call is up), in the background of a benchmark run."""

    def __init__(self, perf: str, pid: int, root: Path | None, out: Path,
                 start_after_s: float, seconds: float) -> None:
        self.perf, self.pid, self.root, self.out = perf, pid, root, out
        self.seconds = seconds
        self.profile = Profile()
        self._timer = threading.Timer(start_after_s, self._record)

    def start(self) -> AsteriskProfiler:
        self._timer.start()
        return self

    def finish(self) -> Profile:
        """Wait for the samples (a run shorter than the profile still gets its report)."""
        self._timer.join()
        return self.profile

    def _record(self) -> None:
        recorded = subprocess.run(
            [self.perf, "record", "-e", "cpu-clock", "-F", str(SAMPLES_PER_S), "-g",
             "-p", str(self.pid), "-o", str(self.out), "--", "sleep", f"{self.seconds:g}"],
            capture_output=True, text=True, timeout=self.seconds + 120, check=False)
        if recorded.returncode != 0 or not self.out.is_file():
            self.profile.problem = f"perf record: {recorded.stderr.strip()[-300:]}"
            return
        self.profile.by_object = self._report("dso")
        self.profile.by_function = self._report("dso,sym")

    def _report(self, keys: str) -> list[str]:
        # The kernel's own symbols by /proc/kallsyms: most of a busy Asterisk's time is in
        # system calls (poll, futex, sendto), which perf would otherwise print as addresses.
        symfs = ["--symfs", str(self.root), "--kallsyms", "/proc/kallsyms"] \
            if self.root is not None else []
        report = subprocess.run(
            [self.perf, "report", "-i", str(self.out), "--stdio", "--no-children",
             "-g", "none", "--sort", keys, "--percent-limit", "0.5", *symfs],
            capture_output=True, text=True, timeout=300, check=False)
        rows = [" ".join(line.split()) for line in report.stdout.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
        return rows[:TOP]
