"""Render the project's `asterisk-conf/` and `dialplan/` into an instance's runtime folder.

Sources hold `{{name}}` placeholders for what differs per instance (paths, loopback ports, the
generated AMI secret); Asterisk's own `${...}` syntax is left alone.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

from hotline.asterisk.provision import AsteriskInstallation
from hotline.settings import Settings
from ivr.menu_loader import load_menus

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
AMI_USER = "hotline"


class ConfigError(RuntimeError):
    pass


def ami_secret(settings: Settings) -> str:
    """The instance's AMI secret: generated on first use, kept private in the runtime folder."""
    path = settings.asterisk_dir / "ami-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def etc_dir(settings: Settings) -> Path:
    return settings.asterisk_dir / "etc"


def config_file(settings: Settings) -> Path:
    return etc_dir(settings) / "asterisk.conf"


def render(settings: Settings, installation: AsteriskInstallation) -> Path:
    """Write the instance's config; returns the path of its asterisk.conf."""
    base = settings.asterisk_dir
    values = {
        "etc_dir": str(etc_dir(settings)),
        "modules_dir": installation.modules_dir,
        "data_dir": installation.data_dir,
        "lib_dir": str(base / "lib"),
        "spool_dir": str(base / "spool"),
        "asterisk_run_dir": str(base / "run"),
        "log_dir": str(settings.log_dir / "asterisk"),
        "ami_port": str(settings.ami_port),
        "ami_secret": ami_secret(settings),
        "sip_port": str(settings.sip_port),
        "rtp_start": str(settings.rtp_start),
        "rtp_end": str(settings.rtp_end),
        "agi_url": settings.agi_url,
    }
    for name in ("lib_dir", "spool_dir", "asterisk_run_dir", "log_dir"):
        Path(values[name]).mkdir(parents=True, exist_ok=True)
    target = etc_dir(settings)
    shutil.rmtree(target, ignore_errors=True)
    (target / "dialplan").mkdir(parents=True)
    for source in sorted((settings.project_dir / "asterisk-conf").glob("*.conf")):
        _render_file(source, target / source.name, values)
    for source in sorted((settings.project_dir / "dialplan").glob("*.conf")):
        _render_file(source, target / "dialplan" / source.name, values)
    (target / "queues-menus.conf").write_text(menu_queues_conf(settings), encoding="utf-8")
    return target / "asterisk.conf"


HAND_WRITTEN_QUEUES = {"fallback"}  # defined in asterisk-conf/queues.conf


def menu_queues_conf(settings: Settings) -> str:
    """One queue per entry of the menus' `queues:` sections (menus must be valid)."""
    result = load_menus(settings.menus, settings.catalog_file)
    if result.menus is None:
        first = "; ".join(p.render(settings.project_dir) for p in result.problems[:3])
        raise ConfigError(f"the menus have errors, so their queues cannot be configured "
                          f"(run `hotline validate`): {first}")
    lines = ["; GENERATED from the menus' `queues:` sections by `hotline asterisk up`;",
             "; edit menus/*.yaml instead.", ""]
    for name, queue in sorted(result.menus.queues.items()):
        if name in HAND_WRITTEN_QUEUES:
            continue
        lines += [f"; {queue.description}", f"[{name}](hotline-queue)", ""]
    return "\n".join(lines)


def _render_file(source: Path, target: Path, values: dict[str, str]) -> None:
    text = source.read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            line = text.count("\n", 0, match.start()) + 1
            raise ConfigError(f"{source}:{line}: unknown placeholder {{{{{name}}}}}; "
                              f"known: {', '.join(sorted(values))}")
        return values[name]

    header = f"; Rendered from {source.parent.name}/{source.name}; edit the source, not this.\n"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(header + _PLACEHOLDER.sub(fill, text))
