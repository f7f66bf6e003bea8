"""`hotline`: the operator's single entry point."""

from __future__ import annotations

import logging
import os
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from agi.server import DEFAULT_BACKLOG, DEFAULT_MAX_CALLS
from db import migrate
from db.database import make_engine, masked_url
from db.sample_data import SampleDataError, load_sample_customers
from hotline import (
    agent_commands,
    complaint_commands,
    console_commands,
    db_commands,
    follow_up_commands,
    menu_commands,
    model_commands,
    prompt_commands,
    recording_commands,
    report_commands,
    speech_commands,
)
from hotline.output import DataTable
from ivr.menu_loader import load_menus
from ivr.outcomes import QueueCall
from ivr.ports import SpeechUnavailable
from ivr.transcripts import TranscriptError, load_transcript
from pbx.ami import AmiError
from pbx.calls import CallerScript, CallTrace, place_call, save_caller_audio
from pbx.config import ConfigError
from pbx.process import AsteriskInstance
from pbx.provision import ProvisionError, find_or_provision
from pbx.transcript_calls import PlannedCall, plan_call
from runtime.settings import Settings
from services.keeper import Keeper, keep_forever, read_state
from services.processes import (
    ConsoleService,
    FastAgiService,
    KeeperService,
    RecorderService,
    ServiceError,
    SpeechServiceProcess,
    kept_services,
)
from speech import prompt_build
from speech.client import SpeechClient

app = typer.Typer(help="Hotline IVR: Asterisk-backed voice IVR for financial hotlines.",
                  no_args_is_help=True, add_completion=False)
asterisk_app = typer.Typer(help="Provision and run the real Asterisk 22.", no_args_is_help=True)
app.add_typer(asterisk_app, name="asterisk")
menu_commands.register(app)
agent_commands.register(app)
app.add_typer(prompt_commands.prompts_app, name="prompts")
app.add_typer(model_commands.models_app, name="models")
app.add_typer(speech_commands.speech_app, name="speech")
app.add_typer(db_commands.db_app, name="db")
app.add_typer(db_commands.records_app, name="records")
app.add_typer(complaint_commands.complaints_app, name="complaints")
app.add_typer(follow_up_commands.follow_ups_app, name="followups")
app.add_typer(recording_commands.recordings_app, name="recordings")
app.add_typer(recording_commands.audit_app, name="audit")
app.add_typer(console_commands.console_app, name="console")
app.command("report")(report_commands.report_command)

console = Console()
QUEUE_ANNOUNCEMENT_ALLOWANCE_S = 20.0
OPERATIONAL_ERRORS = (ProvisionError, ConfigError, AmiError, ServiceError, OSError)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


def _instance(allow_provision: bool) -> AsteriskInstance:
    settings = Settings.from_env()
    installation = find_or_provision(settings.asterisk_root, allow_provision=allow_provision)
    return AsteriskInstance(settings, installation)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    # Everything the hotline and the Asterisk it starts write (recordings, the database,
    # messages, logs, secrets) is its owner's only.
    os.umask(0o077)
    _setup_logging(verbose)


@app.command()
def serve(host: str | None = typer.Option(None, help="Address to listen on (default: "
                                                   "loopback)."),
          port: int | None = typer.Option(None, help="FastAGI port (default: HOTLINE_AGI_PORT, "
                                                     "4573)."),
          drain_timeout_s: float = typer.Option(60.0, help="On SIGTERM, wait this long for "
                                                "calls in progress."),
          backlog: int = typer.Option(DEFAULT_BACKLOG, help="Connections queued while busy."),
          max_calls: int = typer.Option(DEFAULT_MAX_CALLS, help="Calls served at once; more "
                                                                 "go to the fallback queue.")
          ) -> None:
    """Run the FastAGI server in the foreground (SIGTERM stops it gracefully, SIGHUP reloads
    the menus; edited menu files are also picked up by themselves)."""
    from agi.server import serve as run_server
    from services.composition import build_app

    settings = Settings.from_env()
    hotline = build_app(settings)
    hotline.store.watch()
    try:
        run_server(hotline.routes, host or settings.agi_host, port or settings.agi_port,
                   drain_timeout_s=drain_timeout_s, on_reload=hotline.store.reload,
                   backlog=backlog, max_calls=max_calls)
    finally:
        hotline.store.stop_watching()


@asterisk_app.command("provision")
def asterisk_provision() -> None:
    """Find Asterisk 22 or provision it (distribution package or a Debian unstable root)."""
    try:
        installation = _instance(allow_provision=True).installation
    except OPERATIONAL_ERRORS as exc:
        raise _fail(exc) from exc
    where = f" in {installation.root}" if installation.root else ""
    console.print(f"Asterisk {installation.version} ({installation.how}{where})")


@asterisk_app.command("up")
def asterisk_up() -> None:
    """Start Asterisk with the project's config (provisioning it first if needed)."""
    try:
        status = _instance(allow_provision=True).up()
    except OPERATIONAL_ERRORS as exc:
        raise _fail(exc) from exc
    console.print(f"Asterisk {status.version} running (pid {status.pid})")


@asterisk_app.command("down")
def asterisk_down() -> None:
    """Stop Asterisk. Nothing is left running."""
    try:
        stopped = _instance(allow_provision=False).down()
    except OPERATIONAL_ERRORS as exc:
        raise _fail(exc) from exc
    console.print("Asterisk stopped" if stopped else "Asterisk was not running")


@asterisk_app.command("status")
def asterisk_status() -> None:
    """Report whether Asterisk runs, and which version. Exit 3 when it does not."""
    try:
        status = _instance(allow_provision=False).status()
    except OPERATIONAL_ERRORS as exc:
        raise _fail(exc) from exc
    if not status.running:
        console.print(f"Asterisk: {status.detail}")
        raise typer.Exit(3)
    console.print(f"Asterisk {status.version} running (pid {status.pid})")


@app.command()
def up() -> None:
    """Bring the hotline up: the database schema, Asterisk, the call-records service, the
    speech service and the FastAGI server, in the background."""
    try:
        instance = _instance(allow_provision=True)
        migrate.upgrade(instance.settings.database_url)
        status = instance.up()
        records_pid = RecorderService(instance.settings).up()
        speech_pid = SpeechServiceProcess(instance.settings).up()
        agi_pid = FastAgiService(instance.settings).up()
        console_pid = ConsoleService(instance.settings).up()
        keeper_pid = KeeperService(instance.settings).up()
    except OPERATIONAL_ERRORS as exc:
        raise _fail(exc) from exc
    except SQLAlchemyError as exc:
        raise _fail(RuntimeError(f"database {masked_url(instance.settings.database_url)}: "
                                 f"{str(exc).splitlines()[0]}")) from exc
    settings = instance.settings
    console.print(f"Asterisk {status.version} running (pid {status.pid}), AMI 127.0.0.1:"
                  f"{settings.ami_port}, SIP 127.0.0.1:{settings.sip_port}")
    console.print(f"speech service running (pid {speech_pid}) on 127.0.0.1:"
                  f"{settings.speech_port}; languages: {_speech_summary(settings)}")
    console.print(f"FastAGI server running (pid {agi_pid}) on {settings.agi_url}")
    console.print(f"call records (pid {records_pid}) into "
                  f"{masked_url(settings.database_url)}; recordings in "
                  f"{settings.recordings_dir}")
    console.print(f"supervisor console (pid {console_pid}) on http://127.0.0.1:"
                  f"{settings.console_port}/ (add a user: `hotline console user add NAME "
                  "--role supervisor`)")
    console.print(f"keeper (pid {keeper_pid}) restarts any of these that dies or hangs")


def _speech_summary(settings: Settings) -> str:
    try:
        languages = SpeechClient(settings.agi_host, settings.speech_port).status()["languages"]
    except SpeechUnavailable as exc:
        return f"unknown ({exc})"
    return ", ".join(f"{tag} {'by voice' if info['ready'] else 'keys only'}"
                     for tag, info in languages.items()) or "none configured"


@app.command()
def down() -> None:
    """Stop the FastAGI server, the speech service, Asterisk and the call-records service."""
    try:
        instance = _instance(allow_provision=False)
        # First, or it would start again what is being stopped.
        KeeperService(instance.settings).down()
        agi_stopped = FastAgiService(instance.settings).down()
        console_stopped = ConsoleService(instance.settings).down()
        speech_stopped = SpeechServiceProcess(instance.settings).down()
        asterisk_stopped = instance.down()
        # Last: it records what the others reported while stopping.
        records_stopped = RecorderService(instance.settings).down()
    except OPERATIONAL_ERRORS as exc:
        raise _fail(exc) from exc
    console.print(f"FastAGI server {'stopped' if agi_stopped else 'was not running'}; "
                  f"speech service {'stopped' if speech_stopped else 'was not running'}; "
                  f"Asterisk {'stopped' if asterisk_stopped else 'was not running'}; "
                  f"call records {'stopped' if records_stopped else 'was not running'}; "
                  f"console {'stopped' if console_stopped else 'was not running'}")


@app.command()
def keep() -> None:
    """Run the keeper in the foreground: restart the FastAGI server, speech, records and
    console services when one dies or stops answering (`hotline up` starts it)."""
    settings = Settings.from_env()
    keep_forever(Keeper(kept_services(settings), KeeperService(settings).state_file))


@app.command()
def status() -> None:
    """Which background services run, and how often the keeper has restarted them."""
    settings = Settings.from_env()
    restarts = read_state(KeeperService(settings).state_file)
    keeper_pid = KeeperService(settings).pid()
    table = DataTable(title="Hotline services")
    for column in ("service", "pid", "restarts", "last restart (UTC)", "why"):
        table.add_column(column)
    for service in [*kept_services(settings), KeeperService(settings)]:
        pid = service.pid()
        seen = restarts.get(service.name, {}) if keeper_pid else {}
        when = seen.get("last_restart")
        table.add_row(service.name, str(pid) if pid else "not running",
                      str(seen.get("restarts", 0)),
                      datetime.fromtimestamp(float(when), UTC).strftime("%Y-%m-%d %H:%M:%S")
                      if isinstance(when, int | float) else "-",
                      str(seen.get("last_reason") or "-"))
    console.print(table)
    if keeper_pid is None:
        console.print("[yellow]the keeper is not running: nothing restarts a service that "
                      "dies (`hotline up` starts it)[/yellow]")


@app.command()
def call(keys: str = typer.Option("1", help="Keys the scripted caller presses ('' for none)."),
         wait_s: float = typer.Option(1.0, help="Seconds the caller listens before pressing."),
         stay_s: float = typer.Option(30.0, help="Seconds the caller stays on the line after; "
                                                 "0 hangs up at once."),
         transcript: str | None = typer.Option(
             None, help="Dial a keys-only call transcript instead (a file, or a name from "
                        "menus/transcripts/), timed to the real prompts."),
         save_audio: Path | None = typer.Option(
             None, "--save-audio", help="Save what the caller heard as a WAV file (8 kHz), "
                                        "to listen to the call.")) -> None:
    """Place a scripted call through the running Asterisk and print what happened."""
    try:
        instance = _instance(allow_provision=False)
        planned = _plan(instance.settings, transcript) if transcript else None
        script = planned.script if planned else CallerScript(keys=keys, wait_s=wait_s,
                                                             stay_s=stay_s)
        heard = instance.settings.runtime_dir / "caller-audio" / uuid.uuid4().hex
        if save_audio is not None:
            heard.parent.mkdir(parents=True, exist_ok=True)
            script = replace(script, record_to=str(heard))
        timeout_s = planned.duration_s + 60 if planned else 60.0
        with instance.ami() as ami:
            trace = place_call(ami, script, timeout_s=timeout_s)
        saved = save_caller_audio(heard, save_audio) if save_audio is not None else None
    except (*OPERATIONAL_ERRORS, TimeoutError, ValueError, TranscriptError) as exc:
        raise _fail(exc) from exc
    print_trace(trace)
    if planned is not None:
        _compare(trace, planned)
    if saved is not None:
        console.print(f"What the caller heard: {saved} (play it with any audio player, "
                      "e.g. `aplay`)", markup=False, highlight=False)


def _plan(settings: Settings, transcript: str) -> PlannedCall:
    file = Path(transcript)
    if not file.is_file():
        file = settings.menus / "transcripts" / f"{transcript}.yaml"
    menus = load_menus(settings.menus, settings.catalog_file).menus
    if menus is None:
        raise ValueError("the menus have errors; run `hotline validate`")
    manifest = prompt_build.load_manifest(settings.prompts_audio_dir)
    if not manifest:
        raise ValueError("no rendered prompts; run `hotline prompts build`")
    durations = {key: int(str(entry.get("duration_ms", 0))) for key, entry in manifest.items()}
    # Live queues may add a wait announcement (and a callback offer) before the queue.
    return plan_call(menus, load_transcript(file), durations,
                     queue_allowance_s=QUEUE_ANNOUNCEMENT_ALLOWANCE_S)


def _compare(trace: CallTrace, planned: PlannedCall) -> None:
    expected = planned.expected.outcome
    if expected is None:
        return
    queue = expected.queue if isinstance(expected, QueueCall) else ""
    wanted = {"Outcome": expected.kind.value, "Queue": queue,
              "Intent": expected.intent}
    differences = {name: (trace.ended.get(name), value) for name, value in wanted.items()
                   if trace.ended.get(name) != value}
    if differences:
        console.print(f"[yellow]Differs from the transcript (real clock and directory may "
                      f"differ from the transcript's): {differences}[/yellow]")
    else:
        console.print("[green]The real call ended as the transcript expects.[/green]")


@app.command()
def demo(save_audio: Path | None = typer.Option(
        None, "--save-audio", help="Save what the demo caller heard as a WAV file.")) -> None:
    """Bring the hotline up and place a demo call through real Asterisk: a caller who lost
    a card picks Mandarin and presses 1, hearing the real prompts."""
    up()
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        count = load_sample_customers(engine, settings.customers)
    except (SampleDataError, SQLAlchemyError) as exc:
        raise _fail(RuntimeError(f"sample customers: {exc}")) from exc
    finally:
        engine.dispose()
    console.print(f"{count} sample customers loaded for lookups")
    console.print("\nPlacing a demo call (menus/transcripts/lost-card-mandarin.yaml): "
                  "Mandarin, then 1 for a lost card. About 30 seconds.")
    call(keys="", wait_s=1.0, stay_s=30.0, transcript="lost-card-mandarin",
         save_audio=save_audio)
    console.print("\nThe hotline stays up: `hotline call --transcript card-dispute-cantonese` "
                  "places another call, `hotline simulate` tries the menus in the terminal, "
                  "`hotline down` stops everything.")


def print_trace(trace: CallTrace) -> None:
    table = DataTable(title=f"Call {trace.hotline_id}", show_lines=False)
    table.add_column("context")
    table.add_column("application")
    table.add_column("data", overflow="fold")
    for context, application, data in trace.steps:
        table.add_row(context, application, data)
    console.print(table)
    if trace.agi_commands:
        agi_table = DataTable(title="What the FastAGI route did")
        agi_table.add_column("AGI command", overflow="fold")
        agi_table.add_column("result", overflow="fold")
        for command, result in trace.agi_commands:
            agi_table.add_row(command, result)
        console.print(agi_table)
    console.print(f"  keys the hotline received: {trace.keys_received or 'none'}")
    for name, value in trace.ivr_variables.items():
        console.print(f"  {name} = {value}")
    verdict = trace.outcome or "none"
    if trace.failure:
        verdict += f" (failure: {trace.failure}, sent to the fallback queue)"
    console.print(f"Outcome: [bold]{verdict}[/bold]; the call has ended.")
