"""Rules that keep the design simple, checked on the source itself."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agi import variables
from agi.routes import ROUTE_NAMES
from ivr.agents import asterisk_queue
from ivr.menu_loader import load_menus
from ivr.outcomes import FALLBACK_QUEUE, OutcomeKind
from pbx import config
from pbx.provision import AsteriskInstallation
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DIALPLAN = "\n".join(p.read_text() for p in sorted((ROOT / "dialplan").glob("*.conf")))
PACKAGES = ("agi", "ivr", "speech", "db", "runtime", "pbx", "services", "hotline", "console")
FORBIDDEN_IN_IVR = {"asterisk", "agi", "hotline", "speech", "db", "vosk", "sqlalchemy",
                    "pyttsx3", "pydub", "socket", "subprocess", "runtime", "pbx", "services",
                    "console"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_ivr_is_pure() -> None:
    for path in sorted((ROOT / "ivr").rglob("*.py")):
        bad = imported_modules(path) & FORBIDDEN_IN_IVR
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_only_agi_and_ami_adapters_import_pyst2() -> None:
    allowed = {ROOT / "agi" / "channel.py", ROOT / "pbx" / "ami.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "asterisk" in imported_modules(path):
                assert path in allowed, f"{path.relative_to(ROOT)} imports pyst2"


def test_layers_import_downward_only() -> None:
    """The import-linter contracts in pyproject.toml: no upward imports, no cycles between
    layers, ivr pure, pyst2 only behind its two adapters."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_no_print_in_service_code() -> None:
    for package in ("agi", "ivr", "speech", "db", "runtime", "pbx", "services"):
        for path in sorted((ROOT / package).rglob("*.py")):
            calls = [n for n in ast.walk(ast.parse(path.read_text()))
                     if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
            assert not calls, f"print() in {path.relative_to(ROOT)}"


def test_dialplan_uses_exactly_the_declared_ivr_variables() -> None:
    used = set(re.findall(r"\bIVR_[A-Z_]+\b", DIALPLAN))
    assert used == set(variables.ALL)


def test_dialplan_uses_exactly_the_declared_shared_variables() -> None:
    """Beyond IVR_*: the callback placeholder, the demo caller and live monitoring."""
    placeholder = set(re.findall(r"\b(HOLD_[A-Z_]+|CALLBACK_NUMBER)\b", DIALPLAN))
    assert placeholder == set(variables.PLACEHOLDER)
    assert set(re.findall(r"\bCALLER_[A-Z_]+\b", DIALPLAN)) == set(variables.SCRIPTED_CALLER)
    assert set(re.findall(r"\bSPY_ON\b", DIALPLAN)) == {variables.SPY_ON}


def test_every_agi_route_in_the_dialplan_exists() -> None:
    requested = set(re.findall(r"AGI\(\$\{HOTLINE_AGI_URL\}/([\w-]+)\)", DIALPLAN))
    assert requested and requested <= set(ROUTE_NAMES)


def test_every_outcome_has_a_dialplan_extension() -> None:
    outcome_context = DIALPLAN.split("[hotline-outcome]", 1)[1].split("\n[", 1)[0]
    handled = set(re.findall(r"^exten => (\w+),1,", outcome_context, re.MULTILINE))
    assert handled == {kind.value for kind in OutcomeKind}


def test_every_menu_queue_exists_in_asterisk_for_every_language(tmp_path: Path) -> None:
    settings = Settings(project_dir=ROOT, runtime_dir=tmp_path, asterisk_root=tmp_path)
    conf = config.menu_queues_conf(settings, *config.menus_and_agents(settings))
    generated = set(re.findall(r"^\[([\w-]+)\]\(hotline-queue\)", conf, re.MULTILINE))
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    wanted = {asterisk_queue(queue, language) for queue in menus.queues
              if queue != FALLBACK_QUEUE for language in menus.line.call_languages}
    assert generated == wanted | {FALLBACK_QUEUE}
    # The dialplan names only the fallback queue; every other queue comes from the IVR.
    used = set(re.findall(r"Queue\(([\w-]+)", DIALPLAN))
    assert used == {FALLBACK_QUEUE}


def test_config_renders_with_every_placeholder_filled(tmp_path: Path) -> None:
    settings = Settings(project_dir=ROOT, runtime_dir=tmp_path / "var",
                        asterisk_root=tmp_path / "root", ami_port=15038, sip_port=15060)
    installation = AsteriskInstallation("host", None, "/usr/sbin/asterisk",
                                        "/usr/lib/asterisk/modules", "/usr/share/asterisk", "22.10")
    conf = config.render(settings, installation)
    rendered = "\n".join(p.read_text() for p in conf.parent.rglob("*.conf"))
    assert "{{" not in rendered
    assert "port = 15038" in rendered and "bind = 127.0.0.1:15060" in rendered
    assert config.ami_secret(settings) in rendered
    assert (conf.parent / "manager.conf").stat().st_mode & 0o077 == 0
    # No trunk configured: nothing but loopback, RTP included.
    assert "bindaddr = 127.0.0.1" in (conf.parent / "rtp.conf").read_text()
    assert "transport-trunk" not in rendered


def test_a_sip_trunk_listens_on_its_address_and_takes_calls_from_its_peer_only(
        tmp_path: Path) -> None:
    installation = AsteriskInstallation("host", None, "/usr/sbin/asterisk",
                                        "/usr/lib/asterisk/modules", "/usr/share/asterisk", "22.10")
    settings = Settings(project_dir=ROOT, runtime_dir=tmp_path / "var",
                        asterisk_root=tmp_path / "root", sip_trunk_address="10.231.0.1",
                        sip_trunk_port=15080, sip_trunk_peer="10.231.0.2")
    etc = config.render(settings, installation).parent
    endpoints = (etc / "pjsip-endpoints.conf").read_text()
    assert "bind = 10.231.0.1:15080" in endpoints and "match = 10.231.0.2/32" in endpoints
    trunk = endpoints.split("[trunk](hotline-phone)")[1].split("\n\n")[0]
    assert "context = hotline-inbound" in trunk and "auth" not in trunk
    assert "bindaddr = 10.231.0.1" in (etc / "rtp.conf").read_text()
    with pytest.raises(ValueError, match="peer"):  # a trunk open to any address: refused
        config.render(settings.with_changes(sip_trunk_peer=""), installation)
    with pytest.raises(ValueError):
        config.render(settings.with_changes(sip_trunk_address="10.231.0.1; bind=0"),
                      installation)
    with pytest.raises(ValueError, match="not a name"):  # no config lines through a setting
        config.render(settings.with_changes(sip_trunk_context="x\n[evil]\ntype = endpoint"),
                      installation)


def test_test_scaffolding_is_only_in_the_tests_overlay(tmp_path: Path) -> None:
    """Production renders the hotline's dialplan only; the tests' far ends (simulated agents,
    callee, supervisor phone) come with the overlay the tests install, and the production
    route table has no test routes."""
    installation = AsteriskInstallation("host", None, "/usr/sbin/asterisk",
                                        "/usr/lib/asterisk/modules", "/usr/share/asterisk", "22.10")
    contexts = {}
    for name, overlay in (("production", None), ("tests", ROOT / "tests" / "dialplan")):
        settings = Settings(project_dir=ROOT, runtime_dir=tmp_path / name,
                            asterisk_root=tmp_path / "root", dialplan_overlay=overlay)
        etc = config.render(settings, installation).parent
        included = re.findall(r"^#include (\S+)", (etc / "dialplan" / "includes.conf").read_text(),
                              re.MULTILINE)
        assert all((etc / path).is_file() for path in included), included
        text = "\n".join((etc / path).read_text() for path in included)
        contexts[name] = set(re.findall(r"^\[([\w-]+)\]", text, re.MULTILINE))
    test_only = contexts["tests"] - contexts["production"]
    assert {"hotline-simulated-agent", "hotline-scripted-callee",
            "hotline-scripted-queue-entry", "hotline-scripted-supervisor"} <= test_only
    assert "hotline-inbound" in contexts["production"]
    assert set(ROUTE_NAMES) == {"hotline", "queue-exit", "survey"}


def test_everything_binds_to_loopback() -> None:
    conf = {p.name: p.read_text() for p in (ROOT / "asterisk-conf").glob("*.conf")}
    assert "bindaddr = 127.0.0.1" in conf["manager.conf"]
    assert "bind = 127.0.0.1:" in conf["pjsip.conf"]
    # RTP from loopback unless a SIP trunk names its address (rendered: see above).
    assert "bindaddr = {{rtp_bind}}" in conf["rtp.conf"]
    # Asterisk's HTTP server only carries the browser phone's WebSocket, on loopback.
    assert "bindaddr = 127.0.0.1" in conf["http.conf"]
    assert "enablestatic = no" in conf["http.conf"] and "enable_status = no" in conf["http.conf"]
    assert all(line.strip() != "webenabled = yes" for line in conf["manager.conf"].splitlines())
    assert Settings.from_env().agi_host == "127.0.0.1"
