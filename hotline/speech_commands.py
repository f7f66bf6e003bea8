"""`hotline speech serve|status`: the speech service (models loaded once for every call)."""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType

import typer
from rich.console import Console

from hotline.model_commands import registry_or_exit
from ivr.ports import SpeechUnavailable
from runtime.settings import Settings
from speech.client import SpeechClient
from speech.service import SpeechService, load_models, start_server
from speech.streaming import start_audiosocket_server

speech_app = typer.Typer(help="The speech service (Vosk).", no_args_is_help=True)
console = Console()


@speech_app.command("serve")
def serve_command(
        port: int = typer.Option(0, help="Loopback port (default: HOTLINE_SPEECH_PORT)."),
        workers: int = typer.Option(2, help="Recognitions at once (about one per core)."),
        queue_wait_s: float = typer.Option(1.0, help="Longest wait for a free worker before "
                                                     "a request is refused as overloaded.")
) -> None:
    """Load every configured model once, then serve recognition requests until SIGTERM.
    Languages without a usable model are logged as errors and served by keys only."""
    settings = Settings.from_env()
    registry = registry_or_exit(settings)
    languages = load_models(registry, settings.models)
    service = SpeechService(languages, workers=workers, queue_wait_s=queue_wait_s,
                            audiosocket_port=settings.audiosocket_port)
    streaming = start_audiosocket_server(service.streams, settings.agi_host,
                                         settings.audiosocket_port)
    server = start_server(service, settings.agi_host, port or settings.speech_port)
    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    stop.wait()
    for running in (server, streaming):
        running.shutdown()
        running.server_close()


@speech_app.command("status")
def status_command() -> None:
    """What the running speech service can hear, its load and memory."""
    settings = Settings.from_env()
    try:
        status = SpeechClient(settings.agi_host, settings.speech_port).status()
    except SpeechUnavailable as exc:
        console.print(f"[red]not running:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print_json(json.dumps(status, ensure_ascii=False))
