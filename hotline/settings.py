"""Where things live and which loopback ports they use. Read from the environment so tests and
several instances on one host never collide.

HOTLINE_PROJECT_DIR   the checkout (asterisk-conf/, dialplan/, menus/, prompts/); found
                      automatically from the installed package
HOTLINE_RUNTIME_DIR   git-ignored runtime folder: Asterisk config, logs, recordings (var/)
HOTLINE_ASTERISK_ROOT provisioned Debian root holding Asterisk 22 (.provision/asterisk-root)
HOTLINE_MENUS_DIR     operator-edited menu trees (menus/)
HOTLINE_CUSTOMERS_FILE customer directory for lookups until the database serves them
HOTLINE_AGI_PORT, HOTLINE_AMI_PORT, HOTLINE_SIP_PORT, HOTLINE_RTP_START  loopback ports
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

LOOPBACK = "127.0.0.1"


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


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    runtime_dir: Path
    asterisk_root: Path
    menus_dir: Path | None = None  # None: <project>/menus
    customers_file: Path | None = None  # None: <project>/db/sample_customers.yaml
    agi_host: str = LOOPBACK
    agi_port: int = 4573
    ami_port: int = 5038
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999

    @classmethod
    def from_env(cls) -> Settings:
        project = find_project_dir()
        env = os.environ
        return cls(
            project_dir=project,
            runtime_dir=Path(env.get("HOTLINE_RUNTIME_DIR", project / "var")).resolve(),
            asterisk_root=Path(env.get("HOTLINE_ASTERISK_ROOT",
                                       project / ".provision" / "asterisk-root")).resolve(),
            menus_dir=Path(env.get("HOTLINE_MENUS_DIR", project / "menus")).resolve(),
            customers_file=Path(env.get("HOTLINE_CUSTOMERS_FILE",
                                        project / "db" / "sample_customers.yaml")).resolve(),
            agi_port=int(env.get("HOTLINE_AGI_PORT", "4573")),
            ami_port=int(env.get("HOTLINE_AMI_PORT", "5038")),
            sip_port=int(env.get("HOTLINE_SIP_PORT", "5060")),
            rtp_start=int(env.get("HOTLINE_RTP_START", "10000")),
            rtp_end=int(env.get("HOTLINE_RTP_START", "10000")) + 999,
        )

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
        return self.project_dir / "prompts" / "catalog.yaml"

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
    def spool_dir(self) -> Path:
        return self.runtime_dir / "spool"
