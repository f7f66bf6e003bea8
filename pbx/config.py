"""Render the project's `asterisk-conf/` and `dialplan/` into an instance's runtime folder.

Sources hold `{{name}}` placeholders for what differs per instance (paths, loopback ports, the
generated AMI secret); Asterisk's own `${...}` syntax is left alone.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
import shutil
from pathlib import Path

from ivr.agents import (
    WIDE_MAX_PENALTY,
    WIDEN_RULE,
    AgentsFile,
    Member,
    asterisk_queue,
    load_agents,
    members,
)
from ivr.catalog import prompt_sound
from ivr.menu_loader import MenuSet, load_menus
from ivr.outcomes import FALLBACK_QUEUE
from pbx.provision import AsteriskInstallation
from runtime.settings import Settings
from speech.hold_music import write_hold_music

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
AMI_USER = "hotline"


class ConfigError(RuntimeError):
    pass


def ami_secret(settings: Settings) -> str:
    """The instance's AMI secret: generated on first use, kept private in the runtime folder."""
    return _private_secret(settings.asterisk_dir / "ami-secret")


def _private_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


SIP_REALM = "hotline"
CALLER_ENDPOINT = "caller"  # a local softphone that calls the hotline


def sip_password(settings: Settings, user: str) -> str:
    """A SIP account's password: generated per runtime folder, readable by its owner only;
    Asterisk's config holds only its MD5 digest."""
    return _private_secret(settings.asterisk_dir / "sip-secrets" / user)


def sip_endpoints_conf(settings: Settings, agents: AgentsFile) -> str:
    """PJSIP endpoints on the loopback transport: the softphone that calls the hotline and
    one phone per agent of routing/agents.yaml."""
    lines = ["; GENERATED from routing/agents.yaml by `hotline asterisk up`; passwords are in",
             "; the runtime folder (`hotline sip`), only their digests are here.", "",
             "[hotline-phone](!)", "type = endpoint", "transport = transport-loopback",
             "disallow = all", "allow = ulaw,alaw", "direct_media = no",
             "rtp_symmetric = yes", ""]
    accounts = [(CALLER_ENDPOINT, "hotline-inbound", "softphone: any number reaches the IVR")]
    accounts += [(agent.extension, "hotline-agent-phone", f"agent {agent.id}")
                 for agent in agents.agents]
    browsers = {agent.extension for agent in agents.agents if agent.phone == "browser"}
    for user, context, what in accounts:
        digest = hashlib.md5(f"{user}:{SIP_REALM}:{sip_password(settings, user)}".encode(),
                             usedforsecurity=False).hexdigest()
        # The desk's browser phone: SIP over the WebSocket transport, media with ICE and
        # DTLS-SRTP (webrtc = yes), a certificate Asterisk makes itself.
        webrtc = ["transport = transport-ws", "webrtc = yes", "dtls_auto_generate_cert = yes"] \
            if user in browsers else []
        lines += [f"; {what}", f"[{user}](hotline-phone)", f"context = {context}",
                  f"auth = {user}-auth", f"aors = {user}", *webrtc, "",
                  f"[{user}-auth]", "type = auth", "auth_type = md5", f"username = {user}",
                  f"realm = {SIP_REALM}", f"md5_cred = {digest}", "",
                  f"[{user}]", "type = aor", "max_contacts = 1", "remove_existing = yes", ""]
    return "\n".join(lines + sip_trunk_conf(settings))


def sip_trunk_conf(settings: Settings) -> list[str]:
    """The carrier's (or session border controller's) trunk, when one is configured: its own
    transport on the trunk address, calls accepted from the peer's address only."""
    if not settings.sip_trunk_address:
        return []
    if not settings.sip_trunk_peer:
        raise ValueError("a SIP trunk needs the peer it takes calls from "
                         "(HOTLINE_SIP_TRUNK_PEER)")
    if not re.fullmatch(r"[\w-]+", settings.sip_trunk_context):
        raise ValueError(f"SIP trunk context {settings.sip_trunk_context!r} is not a name")
    address = ipaddress.ip_address(settings.sip_trunk_address)
    peer = ipaddress.ip_network(settings.sip_trunk_peer, strict=False)
    return ["; the SIP trunk: calls from its peer's address only, no registration",
            "[transport-trunk]", "type = transport", "protocol = udp",
            f"bind = {address}:{settings.sip_trunk_port}", "",
            "[trunk](hotline-phone)", f"context = {settings.sip_trunk_context}",
            "transport = transport-trunk", "dtmf_mode = rfc4733",
            "rtp_symmetric = yes", "", "[trunk-identify]", "type = identify",
            "endpoint = trunk", f"match = {peer}", ""]


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
        "webrtc_port": str(settings.webrtc_port),
        "rtp_start": str(settings.rtp_start),
        "rtp_end": str(settings.rtp_end),
        # RTP leaves from the trunk's address when there is one (loopback peers still reach
        # it), else from loopback.
        "rtp_bind": settings.sip_trunk_address or "127.0.0.1",
        "agi_url": settings.agi_url,
        "moh_dir": str(write_hold_music(settings.runtime_dir / "moh").parent),
    }
    menus, agents = menus_and_agents(settings)
    values["recordings_dir"] = str(settings.recordings_dir)
    values["disclosure_sound"] = str(prompt_sound(
        settings.prompts_audio_dir, menus.line.recording_disclosure_prompt,
        menus.line.default_language))
    for name in ("lib_dir", "spool_dir", "asterisk_run_dir", "log_dir", "recordings_dir"):
        Path(values[name]).mkdir(parents=True, exist_ok=True)
    target = etc_dir(settings)
    shutil.rmtree(target, ignore_errors=True)
    (target / "dialplan").mkdir(parents=True)
    for source in sorted((settings.project_dir / "asterisk-conf").glob("*.conf")):
        _render_file(source, target / source.name, values)
    includes = []
    for folder, into in dialplan_sources(settings):
        (target / "dialplan" / into).mkdir(parents=True, exist_ok=True)
        for source in sorted(folder.glob("*.conf")):
            _render_file(source, target / "dialplan" / into / source.name, values)
            includes.append(f"#include dialplan/{Path(into) / source.name}")
    (target / "dialplan" / "includes.conf").write_text(
        "; GENERATED when Asterisk starts: the dialplan files of this instance.\n"
        + "\n".join(includes) + "\n", encoding="utf-8")
    generated = {"queues-menus.conf": menu_queues_conf(settings, menus, agents),
                 "queuerules.conf": queue_rules_conf(agents),
                 "pjsip-endpoints.conf": sip_endpoints_conf(settings, agents)}
    for name, text in generated.items():
        (target / name).write_text(text, encoding="utf-8")
    return target / "asterisk.conf"


def dialplan_sources(settings: Settings) -> list[tuple[Path, str]]:
    """The hotline's dialplan folder, then the overlay's (rendered into `overlay/`)."""
    sources = [(settings.project_dir / "dialplan", ".")]
    if settings.dialplan_overlay is not None:
        if not settings.dialplan_overlay.is_dir():
            raise ConfigError(f"HOTLINE_DIALPLAN_OVERLAY {settings.dialplan_overlay} is not a "
                              "folder of .conf files")
        sources.append((settings.dialplan_overlay, "overlay"))
    return sources


def menu_queues_conf(settings: Settings, menus: MenuSet, agents: AgentsFile,
                     with_fallback: bool = True) -> str:
    """The queues callers join: one per menu queue and caller language, each agent with the
    queue's skills a member with the penalty the routing policy gives (see ivr/agents.py);
    plus the language-free fallback queue of every agent who takes general calls."""
    timing = [f"timeout = {agents.routing.ring_s}", f"wrapuptime = {agents.routing.wrapup_s}"]
    periodic = menus.line.queue_wait.periodic_prompt

    def reminder(language: str) -> list[str]:
        # Rendered prompts live in the runtime folder, which Asterisk sees at the same path.
        if not agents.routing.periodic_announce_s:
            return []
        sound = prompt_sound(settings.prompts_audio_dir, periodic, language)
        return [f"periodic-announce = {sound}",
                f"periodic-announce-frequency = {agents.routing.periodic_announce_s}"]

    lines = ["; GENERATED from the menus' `queues:` sections and routing/agents.yaml by",
             "; `hotline asterisk up`; edit those files instead.", ""]
    for name, queue in sorted(menus.queues.items()):
        if name == FALLBACK_QUEUE:
            continue
        for language in menus.line.call_languages:
            lines += [f"; {queue.description} ({language})",
                      f"[{asterisk_queue(name, language)}](hotline-queue)", *timing,
                      *reminder(menus.line.prompt_language(language))]
            lines += [_member_line(m) for m in members(agents.agents, list(queue.skills),
                                                       language)]
            lines.append("")
    if not with_fallback:  # a second line on the same Asterisk shares the first's
        return "\n".join(lines)
    lines += ["; Failures (any language): everyone who takes general calls",
              f"[{FALLBACK_QUEUE}](hotline-queue)", *timing]
    fallback = members(agents.agents, ["general"], menus.line.default_language)
    lines += [_member_line(m) for m in fallback] + [""]
    return "\n".join(lines)


def queue_rules_conf(agents: AgentsFile) -> str:
    """The rule that widens the pool: after `widen_after_s`, any agent with the skill."""
    return "\n".join(["; GENERATED from routing/agents.yaml; edit that file instead.",
                      f"[{WIDEN_RULE}]",
                      f"penaltychange => {agents.routing.widen_after_s},{WIDE_MAX_PENALTY}", ""])


def _member_line(member: Member) -> str:
    agent = member.agent
    state = agent.state_interface or agent.ring
    return f"member => {agent.ring},{member.penalty},{agent.id},{state}"


def menus_and_agents(settings: Settings) -> tuple[MenuSet, AgentsFile]:
    """The valid menus and agents the generated config is made from (read once)."""
    result = load_menus(settings.menus, settings.catalog_file)
    if result.menus is None:
        first = "; ".join(p.render(settings.project_dir) for p in result.problems[:3])
        raise ConfigError(f"the menus have errors, so their queues cannot be configured "
                          f"(run `hotline validate`): {first}")
    agents, problems = load_agents(settings.agents_file)
    if agents is None:
        first = "; ".join(p.render(settings.project_dir) for p in problems[:3])
        raise ConfigError(f"the agents file has errors (run `hotline validate`): {first}")
    return result.menus, agents


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
