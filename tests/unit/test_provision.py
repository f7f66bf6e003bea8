"""The order in which Asterisk is found or provisioned, and the errors an operator sees."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pbx import provision
from pbx.provision import AsteriskInstallation, ProvisionError

HOST = AsteriskInstallation("host", None, "/usr/sbin/asterisk", "/m", "/d", "22.10.1")


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "_host_installation", lambda: None)
    monkeypatch.setattr(provision, "_chroot_installation", lambda root: None)


def test_asterisk_on_path_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(provision, "_host_installation", lambda: HOST)
    monkeypatch.setattr(provision, "_build_debian_root", lambda root: pytest.fail("built"))
    assert provision.find_or_provision(tmp_path) is HOST


def test_without_provisioning_says_how(nothing_installed: None, tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match="hotline asterisk provision"):
        provision.find_or_provision(tmp_path, allow_provision=False)


def test_not_root_says_so(nothing_installed: None, monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ProvisionError, match="needs root"):
        provision.find_or_provision(tmp_path)


def test_distribution_package_before_building_a_root(
        nothing_installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed: list[str] = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(provision, "_distribution_has_asterisk", lambda: True)
    monkeypatch.setattr(provision, "apt_install", lambda *p: installed.extend(p))
    found = iter([None, HOST])  # first look: none; after apt-get install: there
    monkeypatch.setattr(provision, "_host_installation", lambda: next(found))
    monkeypatch.setattr(provision, "_build_debian_root", lambda root: pytest.fail("built"))
    assert provision.find_or_provision(tmp_path) is HOST and installed == ["asterisk"]


def test_no_network_for_the_first_build_says_what_to_do(
        nothing_installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(provision, "_distribution_has_asterisk", lambda: False)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/" + name)

    def offline(command: list[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        (tmp_path / "root.partial").mkdir()
        return subprocess.CompletedProcess(command, 1, "", "E: Temporary failure resolving")

    monkeypatch.setattr(subprocess, "run", offline)
    with pytest.raises(ProvisionError, match="needs network access") as error:
        provision.find_or_provision(tmp_path / "root")
    assert "Temporary failure resolving" in str(error.value)
    assert not (tmp_path / "root.partial").exists() and not (tmp_path / "root").exists()


def test_mirror_comes_from_the_machines_apt_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_DEBIAN_MIRROR", raising=False)
    assert provision.debian_mirror().startswith("http")
    monkeypatch.setenv("HOTLINE_DEBIAN_MIRROR", "http://mirror.example/debian")
    assert provision.debian_mirror() == "http://mirror.example/debian"


def test_old_asterisk_on_path_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/sbin/asterisk")
    monkeypatch.setattr(provision, "_version_of", lambda command: "20.6.0")
    assert provision._host_installation() is None
