"""The benchmark's Asterisk profile: perf's samples of the process, reported by shared object
and by function from the Debian root Asterisk runs in (a fake perf that checks its
arguments stands in for the real one)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bench.profile import AsteriskProfiler

FAKE_PERF = r"""#!/bin/sh
log="$(dirname "$0")/calls"
echo "$*" >> "$log"
case "$1" in
  record) for a in "$@"; do [ "$prev" = -o ] && echo samples > "$a"; prev="$a"; done ;;
  report) echo "# Samples: 1K of event 'cpu-clock'"
          echo ""
          echo "    31.20%  libc.so.6        [.] __memmove_avx_unaligned_erms"
          echo "    12.05%  res_rtp_asterisk.so  [.] ast_rtp_read" ;;
esac
"""


def fake_perf(folder: Path) -> Path:
    perf = folder / "perf"
    perf.write_text(FAKE_PERF)
    perf.chmod(perf.stat().st_mode | stat.S_IXUSR)
    return perf


def test_asterisk_is_sampled_by_pid_and_reported_from_its_root(tmp_path: Path) -> None:
    perf = fake_perf(tmp_path)
    root = tmp_path / "asterisk-root"
    profile = AsteriskProfiler(str(perf), os.getpid(), root, tmp_path / "a.perf",
                               start_after_s=0, seconds=1).start().finish()
    assert profile.problem == ""
    assert profile.by_function == ["31.20% libc.so.6 [.] __memmove_avx_unaligned_erms",
                                   "12.05% res_rtp_asterisk.so [.] ast_rtp_read"]
    record, by_object, by_function = (tmp_path / "calls").read_text().splitlines()
    assert record.startswith("record -e cpu-clock") and f"-p {os.getpid()}" in record
    assert f"--symfs {root} --kallsyms /proc/kallsyms" in by_object
    assert "--sort dso " in by_object
    assert "--sort dso,sym" in by_function


def test_a_perf_that_records_nothing_is_reported_not_raised(tmp_path: Path) -> None:
    perf = tmp_path / "perf"
    perf.write_text("#!/bin/sh\necho 'no permission to sample' >&2\nexit 1\n")
    perf.chmod(perf.stat().st_mode | stat.S_IXUSR)
    profile = AsteriskProfiler(str(perf), os.getpid(), None, tmp_path / "a.perf",
                               start_after_s=0, seconds=1).start().finish()
    assert profile.by_function == [] and "no permission to sample" in profile.problem
