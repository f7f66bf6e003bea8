"""Where things live and which loopback ports they use. Read from the environment so tests and
several instances on one host never collide.

HOTLINE_PROJECT_DIR   the checkout (asterisk-conf/, dialplan/, menus/, prompts/); found
                      automatically from the installed package
HOTLINE_RUNTIME_DIR   git-ignored runtime folder: Asterisk config, logs, recordings (var/)
HOTLINE_ASTERISK_ROOT provisioned Debian root holding Asterisk 22 (.provision/asterisk-root)
HOTLINE_MENUS_DIR     operator-edited menu trees (menus/)
HOTLINE_CUSTOMERS_FILE sample customers (`hotline db load-sample`; `hotline simulate` reads it)
HOTLINE_CATALOG_FILE  prompt catalog (prompts/catalog.yaml)
HOTLINE_AGENTS_FILE   agents and their skills (routing/agents.yaml)
HOTLINE_MODELS_FILE   speech model registry (speech/models.yaml)
HOTLINE_MODELS_DIR    installed speech models (var/models; shared by every runtime folder)
HOTLINE_MODELS_URL    mirror of the official model archives
HOTLINE_SPEECH_PORT   the speech service's loopback port
HOTLINE_AUDIOSOCKET_PORT  where Asterisk streams callers' audio to the speech service
HOTLINE_RECORDER_PORT the call-records service's status port
HOTLINE_DATABASE_URL  call-records database (SQLAlchemy URL; default a SQLite file in the
                      runtime folder); PostgreSQL: postgresql+psycopg://user@127.0.0.1/db
HOTLINE_ENCRYPT_RECORDINGS  1: compliance recordings are stored encrypted (AES-256-GCM, key
                      in the runtime folder's secrets); the console decrypts to play them
HOTLINE_SMS_GATEWAY_URL  the HTTP SMS gateway the outbox posts to ({"to", "text"} JSON);
                      unset: confirmations wait in the outbox, nothing is sent
HOTLINE_CONSOLE_PORT  the supervisor console's loopback port
HOTLINE_WEBRTC_PORT   Asterisk's loopback HTTP port for SIP over WebSocket (the desk's
                      browser phone: ws://127.0.0.1:<port>/ws)
HOTLINE_AGI_PORT, HOTLINE_AMI_PORT, HOTLINE_SIP_PORT, HOTLINE_RTP_START  loopback ports
HOTLINE_ROUTES_OVERLAY  "module:attribute" of extra AGI routes (the tests' overlay; unset)
HOTLINE_DIALPLAN_OVERLAY  folder of extra dialplan files (the tests' far ends; unset)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

LOOPBACK = "127.0.0.1"
RTP_PORTS = 1000  # media ports from HOTLINE_RTP_START: two per call leg


def find_project_dir() -> Path:
    override = os.environ.get("HOTLINE_PROJECT_DIR")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / "asterisk-conf").is_dir() and (candidate / "dialplan").is_dir():
            return candidate
    raise RuntimeError(
        "cannot find the project folder (asterisk-conf/ and dialplan/); "
        "set HOTLINE_PROJECT_DIR to the checkout")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "")
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{name}={value!r} is not a port number (1-65535)")
    return int(value)


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    runtime_dir: Path
    asterisk_root: Path
    menus_dir: Path | None = None  # None: <project>/menus
    customers_file: Path | None = None  # None: <project>/db/sample_customers.yaml
    catalog_path: Path | None = None  # None: <project>/prompts/catalog.yaml
    agents_path: Path | None = None  # None: <project>/routing/agents.yaml
    models_file: Path | None = None  # None: <project>/speech/models.yaml
    models_dir: Path | None = None  # None: <project>/var/models
    models_url: str | None = None  # None: the registry's base_url
    database_url_setting: str | None = None  # None: SQLite file in the runtime folder
    speech_port: int = 4574
    audiosocket_port: int = 4575
    recorder_port: int = 4576
    console_port: int = 8470
    webrtc_port: int = 8088
    encrypt_recordings: bool = False
    sms_gateway_url: str | None = None  # None: the outbox keeps its messages
    agi_host: str = LOOPBACK
    agi_port: int = 4573
    ami_port: int = 5038
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10000 + RTP_PORTS - 1
    # A SIP trunk from a carrier or session border controller on a non-loopback address:
    # Asterisk listens there (and sends all RTP from it), and takes calls only from
    # `sip_trunk_peer` (matched by source address, no registration). Empty: loopback only.
    sip_trunk_address: str = ""
    sip_trunk_port: int = 5080
    sip_trunk_peer: str = ""
    sip_trunk_context: str = "hotline-inbound"
    # "module:attribute" naming extra AGI routes (a mapping of name to route) merged into the
    # route table: how the tests install their own routes; empty in production.
    routes_overlay: str = ""
    # A folder of extra dialplan files (*.conf) rendered beside the hotline's own: the tests'
    # far ends (simulated agents, a callee, a supervisor's phone). None in production.
    dialplan_overlay: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        project = find_project_dir()
        env = os.environ
        rtp_start = _port(env, "HOTLINE_RTP_START", cls.rtp_start)
        return cls(
            project_dir=project,
            runtime_dir=Path(env.get("HOTLINE_RUNTIME_DIR", project / "var")).resolve(),
            asterisk_root=Path(env.get("HOTLINE_ASTERISK_ROOT",
                                       project / ".provision" / "asterisk-root")).resolve(),
            menus_dir=Path(env.get("HOTLINE_MENUS_DIR", project / "menus")).resolve(),
            customers_file=Path(env.get("HOTLINE_CUSTOMERS_FILE",
                                        project / "db" / "sample_customers.yaml")).resolve(),
            catalog_path=Path(env.get("HOTLINE_CATALOG_FILE",
                                      project / "prompts" / "catalog.yaml")).resolve(),
            agents_path=Path(env.get("HOTLINE_AGENTS_FILE",
                                     project / "routing" / "agents.yaml")).resolve(),
            models_file=Path(env.get("HOTLINE_MODELS_FILE",
                                     project / "speech" / "models.yaml")).resolve(),
            models_dir=Path(env.get("HOTLINE_MODELS_DIR", project / "var" / "models")).resolve(),
            models_url=env.get("HOTLINE_MODELS_URL") or None,
            database_url_setting=env.get("HOTLINE_DATABASE_URL") or None,
            # Defaults are the fields' own: one place for each.
            speech_port=_port(env, "HOTLINE_SPEECH_PORT", cls.speech_port),
            audiosocket_port=_port(env, "HOTLINE_AUDIOSOCKET_PORT", cls.audiosocket_port),
            recorder_port=_port(env, "HOTLINE_RECORDER_PORT", cls.recorder_port),
            console_port=_port(env, "HOTLINE_CONSOLE_PORT", cls.console_port),
            webrtc_port=_port(env, "HOTLINE_WEBRTC_PORT", cls.webrtc_port),
            encrypt_recordings=env.get("HOTLINE_ENCRYPT_RECORDINGS", "") in ("1", "yes", "true"),
            sms_gateway_url=env.get("HOTLINE_SMS_GATEWAY_URL") or None,
            agi_port=_port(env, "HOTLINE_AGI_PORT", cls.agi_port),
            ami_port=_port(env, "HOTLINE_AMI_PORT", cls.ami_port),
            sip_port=_port(env, "HOTLINE_SIP_PORT", cls.sip_port),
            rtp_start=rtp_start,
            rtp_end=rtp_start + RTP_PORTS - 1,
            sip_trunk_address=env.get("HOTLINE_SIP_TRUNK_ADDRESS", ""),
            sip_trunk_port=_port(env, "HOTLINE_SIP_TRUNK_PORT", cls.sip_trunk_port),
            sip_trunk_peer=env.get("HOTLINE_SIP_TRUNK_PEER", ""),
            sip_trunk_context=env.get("HOTLINE_SIP_TRUNK_CONTEXT", cls.sip_trunk_context),
            routes_overlay=env.get("HOTLINE_ROUTES_OVERLAY", ""),
            dialplan_overlay=Path(env["HOTLINE_DIALPLAN_OVERLAY"]).resolve()
            if env.get("HOTLINE_DIALPLAN_OVERLAY") else None,
        )

    def environment(self) -> dict[str, str]:
        """These settings as the environment `from_env` reads (for child processes)."""
        values = {
            "HOTLINE_PROJECT_DIR": self.project_dir, "HOTLINE_RUNTIME_DIR": self.runtime_dir,
            "HOTLINE_ASTERISK_ROOT": self.asterisk_root, "HOTLINE_MENUS_DIR": self.menus,
            "HOTLINE_CUSTOMERS_FILE": self.customers, "HOTLINE_CATALOG_FILE": self.catalog_file,
            "HOTLINE_AGENTS_FILE": self.agents_file,
            "HOTLINE_MODELS_FILE": self.model_registry, "HOTLINE_MODELS_DIR": self.models,
            "HOTLINE_MODELS_URL": self.models_url or "",
            "HOTLINE_DATABASE_URL": self.database_url_setting or "",
            "HOTLINE_SPEECH_PORT": self.speech_port,
            "HOTLINE_AUDIOSOCKET_PORT": self.audiosocket_port,
            "HOTLINE_RECORDER_PORT": self.recorder_port,
            "HOTLINE_CONSOLE_PORT": self.console_port,
            "HOTLINE_WEBRTC_PORT": self.webrtc_port,
            "HOTLINE_ENCRYPT_RECORDINGS": "1" if self.encrypt_recordings else "",
            "HOTLINE_SMS_GATEWAY_URL": self.sms_gateway_url or "",
            "HOTLINE_AGI_PORT": self.agi_port, "HOTLINE_AMI_PORT": self.ami_port,
            "HOTLINE_SIP_PORT": self.sip_port, "HOTLINE_RTP_START": self.rtp_start,
            "HOTLINE_SIP_TRUNK_ADDRESS": self.sip_trunk_address,
            "HOTLINE_SIP_TRUNK_PORT": self.sip_trunk_port,
            "HOTLINE_SIP_TRUNK_PEER": self.sip_trunk_peer,
            "HOTLINE_SIP_TRUNK_CONTEXT": self.sip_trunk_context,
            "HOTLINE_ROUTES_OVERLAY": self.routes_overlay,
            "HOTLINE_DIALPLAN_OVERLAY": self.dialplan_overlay or ""}
        return {name: str(value) for name, value in values.items()}

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def agi_url(self) -> str:
        return f"agi://{self.agi_host}:{self.agi_port}"

    @property
    def asterisk_dir(self) -> Path:
        """Per-instance Asterisk state inside the runtime folder."""
        return self.runtime_dir / "asterisk"

    @property
    def log_dir(self) -> Path:
        return self.runtime_dir / "log"

    @property
    def run_dir(self) -> Path:
        return self.runtime_dir / "run"

    @property
    def menus(self) -> Path:
        return self.menus_dir or self.project_dir / "menus"

    @property
    def catalog_file(self) -> Path:
        return self.catalog_path or self.project_dir / "prompts" / "catalog.yaml"

    @property
    def agents_file(self) -> Path:
        return self.agents_path or self.project_dir / "routing" / "agents.yaml"

    @property
    def model_registry(self) -> Path:
        return self.models_file or self.project_dir / "speech" / "models.yaml"

    @property
    def models(self) -> Path:
        return self.models_dir or self.project_dir / "var" / "models"

    @property
    def utterances_dir(self) -> Path:
        """Callers' spoken answers while they are recognised (deleted right after)."""
        return self.runtime_dir / "utterances"

    @property
    def customers(self) -> Path:
        return self.customers_file or self.project_dir / "db" / "sample_customers.yaml"

    @property
    def prompts_audio_dir(self) -> Path:
        """Rendered prompts, inside the runtime folder so Asterisk sees the same path."""
        return self.runtime_dir / "prompts"

    @property
    def messages_dir(self) -> Path:
        """Callers' recorded messages (complaints, voicemail), named by call id."""
        return self.runtime_dir / "messages"

    @property
    def recordings_dir(self) -> Path:
        """Compliance recordings: `<yyyy>/<mm>/<dd>/<call id>.wav` (UTC dates)."""
        return self.runtime_dir / "recordings"

    @property
    def tickets_dir(self) -> Path:
        """Complaint ticket sequences (db/tickets.py)."""
        return self.runtime_dir / "tickets"

    @property
    def spool_dir(self) -> Path:
        return self.runtime_dir / "spool"

    @property
    def database_url(self) -> str:
        return self.database_url_setting or f"sqlite:///{self.runtime_dir / 'hotline.db'}"

    @property
    def secrets_dir(self) -> Path:
        """Generated per runtime folder, mode 0700 (SIP passwords, the caller-number key)."""
        return self.runtime_dir / "secrets"
