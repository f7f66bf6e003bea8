"""`hotline console`: serve the supervisor console (127.0.0.1 by default; `hotline up`
starts it), manage its users, and install the browser its tests drive."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime

import typer
from rich.console import Console
from sqlalchemy import select

from agi.menu_store import MenuStore
from console import auth
from console.app import BrowserPhone, ConsoleConfig, create_app
from console.live import LiveMonitor
from console.web_build import BUNDLES, WebBuildError, build_web, bundles_are_current
from db.audit import AuditSeal
from db.database import make_engine
from db.models import ConsoleUser
from db.privacy import load_number_secret
from db.tickets import FileTicketIssuer
from hotline.complaint_commands import cli_session
from hotline.output import plain
from ivr.agents import Agent, SkillRouter, load_agents
from ivr.graph import node_words
from ivr.outcomes import FALLBACK_QUEUE
from pbx import config as asterisk_config
from pbx.ami import Ami
from pbx.presence import PresenceControl
from pbx.transfer import CallTransfer
from runtime.settings import LOOPBACK, Settings
from services.records import NUMBER_SECRET_FILE, recordings_cipher

console_app = typer.Typer(help="The supervisor web console.", no_args_is_help=True)
user_app = typer.Typer(help="Console users (hashed passwords; roles supervisor, qa, admin, "
                                 "agent).",
                       no_args_is_help=True)
console_app.add_typer(user_app, name="user")
out = Console()
# The supervisor's own phone, rung for live monitoring ({phone} is what they type).
SUPERVISOR_PHONE_ENV = "HOTLINE_SUPERVISOR_PHONE"


def console_config(settings: Settings) -> ConsoleConfig:
    agents, _problems = load_agents(settings.agents_file)

    def connect() -> Ami:
        return Ami(LOOPBACK, settings.ami_port, asterisk_config.AMI_USER,
                   asterisk_config.ami_secret(settings))

    known = list(agents.agents) if agents else []
    monitor = LiveMonitor(connect, known,
                          os.environ.get(SUPERVISOR_PHONE_ENV, "PJSIP/{phone}"))
    store = MenuStore(settings.menus, settings.catalog_file)
    store.reload()
    menus = store.current()
    return ConsoleConfig(engine=make_engine(settings.database_url),
                         recordings_dir=settings.recordings_dir,
                         messages_dir=settings.messages_dir,
                         cipher=recordings_cipher(settings),
                         number_secret=load_number_secret(
                             settings.secrets_dir / NUMBER_SECRET_FILE),
                         monitor=monitor,
                         floor=connect,
                         audit_seal=AuditSeal.load(settings.secrets_dir),
                         presence=PresenceControl(connect, known),
                         agent_ids=tuple(agent.id for agent in known),
                         node_words=node_words(menus) if menus else {},
                         dialects={tag: d.name for tag, d in menus.line.dialects.items()}
                         if menus else {},
                         line=menus.line if menus else None,
                         phones=browser_phones(settings, known),
                         transfer=CallTransfer(connect, SkillRouter.for_menus(menus, known),
                                               [q for q in menus.queues
                                                if q != FALLBACK_QUEUE]) if menus else None,
                         tickets=FileTicketIssuer(settings.tickets_dir))


def browser_phones(settings: Settings, agents: list[Agent]) -> dict[str, BrowserPhone]:
    """The desk's WebRTC phone of each agent whose `phone` is browser."""
    return {agent.id: BrowserPhone(websocket=f"ws://{LOOPBACK}:{settings.webrtc_port}/ws",
                                   uri=f"sip:{agent.extension}@{LOOPBACK}",
                                   password=asterisk_config.sip_password(settings,
                                                                         agent.extension))
            for agent in agents if agent.phone == "browser"}


LOCAL_NAMES = ("127.0.0.1", "localhost")


@console_app.command("serve")
def serve_command(port: int | None = typer.Option(None, help="Default HOTLINE_CONSOLE_PORT."),
                  host: str = typer.Option(LOOPBACK, help="Loopback unless behind a TLS "
                                                          "proxy."),
                  cookie_secure: bool = typer.Option(False, "--cookie-secure", help=(
                      "Mark cookies Secure: set it when a TLS proxy serves the console.")),
                  trusted_host: list[str] = typer.Option([], "--trusted-host", help=(
                      "A host name the console answers to (repeat it); loopback names "
                      "always work. Requests with any other Host header are refused."))
                  ) -> None:
    """Run the console in the foreground."""
    import uvicorn

    settings = Settings.from_env()
    config = console_config(settings)
    config = replace(config, cookie_secure=cookie_secure,
                     trusted_hosts=(*LOCAL_NAMES, *trusted_host))
    app = create_app(config)
    uvicorn.run(app, host=host, port=port or settings.console_port, log_level="warning",
                access_log=False)  # access logs would hold search terms


@user_app.command("add")
def add_user(username: str,
             role: str = typer.Option(..., help="supervisor, qa, admin or agent"),
             agent: str | None = typer.Option(None, help="Agent role: the agent id of "
                                                         "routing/agents.yaml."),
             password_stdin: bool = typer.Option(False, "--password-stdin",
                                                 help="Read the password from stdin.")) -> None:
    """Add a user, or set an existing user's password and role."""
    known: frozenset[str] = frozenset()
    if role == "agent":
        agents, _problems = load_agents(Settings.from_env().agents_file)
        known = frozenset(a.id for a in agents.agents) if agents else frozenset()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with cli_session() as session:
        try:
            auth.add_user(session, username, password, role, datetime.now(UTC),
                          agent_id=agent, known_agents=known)
        except auth.AuthError as exc:
            out.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
    out.print(f"user {username} ({role}{' ' + agent if agent else ''}) saved")


@user_app.command("list")
def list_users() -> None:
    with cli_session() as session:
        for user in session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)):
            out.print(f"{user.username}\t{user.role}\t{user.agent_id or ''}\t"
                      f"{'disabled' if user.disabled else ''}")


@user_app.command("disable")
def disable_user(username: str) -> None:
    """Disable a user: their sessions stop working at once."""
    with cli_session() as session:
        if not auth.disable_user(session, username):
            out.print(f"[red]error:[/red] no user {plain(username)}")
            raise typer.Exit(1)
    out.print(f"user {plain(username)} disabled; their sessions ended")


BROWSERS = ("chromium", "chromium-browser")


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


CJK_FONT = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk: Chinese in the pages, not boxes


def cjk_font_installed() -> bool:
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                           check=False) if shutil.which("fc-list") else None
    return found is not None and CJK_FONT in found.stdout


@console_app.command("install-browser")
def install_browser() -> None:
    """Install Debian's Chromium for the console's browser tests (Playwright drives it) and
    a CJK font, so that the pages' Chinese renders (and shows in screenshots)."""
    found = find_browser()
    missing = [] if found else ["chromium"]
    if not cjk_font_installed():
        missing.append("fonts-noto-cjk")
    if missing:
        from pbx.provision import apt_install

        apt_install("--no-install-recommends", *missing)
        found = find_browser()
    if found is None:
        out.print("[red]error:[/red] chromium could not be installed")
        raise typer.Exit(1)
    if not cjk_font_installed():
        out.print(f"[red]error:[/red] the CJK font ({CJK_FONT}) could not be installed")
        raise typer.Exit(1)
    out.print(f"browser: {found}, font: {CJK_FONT}")


@console_app.command("build-web")
def build_web_code() -> None:
    """Bundle the console's browser code (JsSIP and ECharts from npm, pinned) into
    console/static/vendor."""
    if bundles_are_current():
        out.print(f"browser code: {', '.join(map(str, BUNDLES.values()))} (current)")
        return
    if shutil.which("npm") is None:
        from pbx.provision import apt_install

        apt_install("--no-install-recommends", "npm")
    try:
        built = build_web()
    except WebBuildError as exc:
        out.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    out.print(f"browser code: {', '.join(map(str, built))}")


@console_app.command("translations")
def translations(check: bool = typer.Option(
        False, "--check", help="change nothing; fail if a catalog is not up to date")) -> None:
    """Bring the console's catalogs (console/locale) up to date with the templates and
    code, and list the words still to translate."""
    from console.i18n_catalog import extract, read, untranslated

    if check:
        gaps = {language: untranslated(read(language), extract())
                for language in ("zh_CN",)}
    else:
        from console.i18n_catalog import update

        gaps = update()
    for language, missing in gaps.items():
        for message in missing:
            out.print(f"{language}: not translated: {message!r}")
    if any(gaps.values()):
        raise typer.Exit(1)
    out.print("catalogs: every message translated")
