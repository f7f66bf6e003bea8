"""`hotline prompts build|check`: pre-rendered prompt audio for every enabled language."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from hotline.menu_commands import menus_or_exit
from hotline.output import plain
from ivr.problems import errors
from pbx.provision import ProvisionError, apt_install
from runtime.settings import Settings
from speech import prompt_build
from speech.audio import TELEPHONY_RATE
from speech.pronounce import PronunciationError, pronounce, pronunciation_problems
from speech.tts import TtsError

prompts_app = typer.Typer(help="Prompt audio: render (TTS or recorded voice) and check.",
                          no_args_is_help=True)
console = Console()


def ensure_tts_engine() -> None:
    """espeak-ng (the engine behind pyttsx3's espeak driver) comes from the distribution."""
    if shutil.which("espeak-ng") is not None:
        return
    if os.geteuid() != 0:
        raise ProvisionError("espeak-ng is missing: `apt-get install espeak-ng` as root, or "
                             "run this command as root once")
    apt_install("espeak-ng")


def recorded_dir(settings: Settings) -> Path:
    return settings.project_dir / "prompts" / "recorded"


def build_prompts(settings: Settings, *, quiet: bool = False,
                  rate: int = TELEPHONY_RATE) -> prompt_build.BuildReport:
    ensure_tts_engine()
    menus = menus_or_exit(settings=settings)
    languages = list(menus.line.languages)
    todo = len(prompt_build.wanted_prompts(menus.catalog, languages))
    with Progress(TextColumn("rendering prompts"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=console,
                  disable=quiet) as progress:
        task = progress.add_task("", total=todo)
        report = prompt_build.build(
            menus.catalog, languages, settings.prompts_audio_dir, recorded_dir(settings),
            lexicon=menus.lexicon, rate=rate,
            progress=lambda key: progress.update(task, advance=1, description=key))
        progress.update(task, completed=todo)
    return report


RateOption = typer.Option(8000, help="8000 (.wav, what every channel plays) or 16000 "
                                      "(.wav16, for wideband channels), built beside it.")


@prompts_app.command("build")
def build_command(rate: int = RateOption) -> None:
    """Render changed prompts (pyttsx3/espeak-ng, or a recorded voice file placed at
    prompts/recorded/<lang>/<id>.wav) to 8 kHz mono WAV; unchanged prompts are kept."""
    settings = Settings.from_env()
    try:
        report = build_prompts(settings, rate=rate)
    except (ProvisionError, TtsError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"prompts: {len(report.rendered)} rendered, {len(report.recorded)} from "
                  f"recordings, {len(report.unchanged)} unchanged, {len(report.removed)} "
                  f"removed → {settings.prompts_audio_dir}")
    for problem in report.problems:
        console.print(f"[red]{plain(problem)}[/red]")
    if report.problems:
        raise typer.Exit(1)


@prompts_app.command("pronounce")
def pronounce_command(
        prompt_id: str | None = typer.Argument(None, help="One prompt (default: every one)."),
        lang: str | None = typer.Option(None, "--lang", help="One language (default: all)."),
) -> None:
    """Print, for every prompt and language, the exact text its voice is given and the
    phonemes the voice says (espeak-ng -x); exit 1 when a voice switches to another language
    or a lexicon word is not read as the lexicon lists it."""
    settings = Settings.from_env()
    menus = menus_or_exit(settings=settings)
    if prompt_id is not None and prompt_id not in menus.catalog.prompts:
        console.print(f"[red]no prompt {escape(prompt_id)} in the catalog[/red]")
        raise typer.Exit(2)
    try:
        results = pronounce(menus.catalog, menus.lexicon,
                            prompt_ids=None if prompt_id is None else [prompt_id],
                            languages=[lang] if lang else menus.line.languages)
    except PronunciationError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for result in results:
        mark = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
        console.print(f"{mark} [bold]{escape(result.prompt_id)}[/bold] "
                      f"{escape(f'[{result.language}]')} {escape(result.voice)}")
        console.print(f"   says:     {result.spoken}", markup=False, highlight=False)
        console.print(f"   phonemes: {result.phonemes}", markup=False, highlight=False)
        for problem in result.problems:
            console.print(f"   ✗ {problem}", style="red", markup=False, highlight=False)
    failed = [r for r in results if not r.ok]
    console.print(f"{len(results) - len(failed)} of {len(results)} prompt readings as intended"
                  + (f"; {len(failed)} not" if failed else ""))
    if failed:
        raise typer.Exit(1)


@prompts_app.command("check")
def check_command(rate: int = RateOption) -> None:
    """Fail on missing, stale or unplayable audio for any prompt a menu uses."""
    settings = Settings.from_env()
    menus = menus_or_exit(settings=settings)
    used = {p for node in menus.nodes.values() for p in node.prompt_ids()}
    used |= set(menus.line.prompt_ids())
    problems = prompt_build.check(menus.catalog, list(menus.line.languages), used,
                                  settings.prompts_audio_dir, recorded_dir(settings), rate,
                                  lexicon=menus.lexicon)
    for problem in problems:
        console.print(f"[red]{escape(problem.key)}: {escape(problem.problem)}[/red]")
    said = pronunciation_problems(menus.catalog, menus.lexicon, settings.catalog_file,
                                  menus.line.languages)
    for found in said:
        console.print(escape(found.render(Path.cwd())), style="red", markup=False)
    if problems or errors(said):
        raise typer.Exit(1)
    console.print(f"prompts OK: every prompt the menus use is built in "
                  f"{', '.join(menus.line.languages)}")
