"""A program the benchmarks need comes from Debian's package only when it is missing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runtime import host


def test_a_program_on_path_is_used_without_installing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "sipp"
    program.write_text("#!/bin/sh\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    installed: list[str] = []
    monkeypatch.setattr(host, "apt_install", installed.append)
    assert host.program_from_debian("sipp", "sip-tester") == str(program)
    assert installed == []


def test_a_missing_program_is_installed_and_still_missing_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    installed: list[str] = []
    monkeypatch.setattr(host, "apt_install", installed.append)
    with pytest.raises(host.ProvisionError, match="linux-perf is installed but perf"):
        host.program_from_debian("perf", "linux-perf")
    assert installed == ["linux-perf"]
