"""Operator commands for menu trees: validate, schema, simulate, graph, reload."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from db.directory import read_sample_customers
from db.tickets import FileTicketIssuer
from hotline.output import DataTable
from ivr.agents import Agent, SkillRouter, check_agents, load_agents
from ivr.call import Ports
from ivr.directory import InMemoryAccountServices, InMemoryDirectory, secrets_of
from ivr.errors import CallerHungUp
from ivr.graph import to_dot, to_mermaid
from ivr.interpreter import run_menus
from ivr.menu_loader import LoadResult, MenuSet, load_menus
from ivr.outcomes import QueueCall
from ivr.ports import (
    ALL_KEYS,
    DigitEntry,
    DirectoryUnavailable,
    Heard,
    RecordedMessage,
    digits_key_by_key,
)
from ivr.problems import Problem, Severity, errors
from ivr.schemas import SCHEMAS, json_schema
from ivr.transcripts import TranscriptError, load_transcript, run_transcript
from ivr.verification import InMemoryVerifier
from ivr.vocabulary import unchecked_languages, vocabulary_problems
from runtime.settings import Settings
from services.processes import FastAgiService
from speech.models import RegistryError, installed_vocabularies, load_registry
from speech.pronounce import pronunciation_problems

console = Console()

MenusOption = typer.Option(None, "--menus", help="Menu folder (default: the project's menus/).")
CatalogOption = typer.Option(None, "--catalog", help="Prompt catalog (default: "
                                                     "prompts/catalog.yaml).")


def _load(menus_dir: Path | None, catalog: Path | None,
          settings: Settings | None = None) -> tuple[LoadResult, Settings]:
    settings = settings or Settings.from_env()
    result = load_menus(menus_dir or settings.menus, catalog or settings.catalog_file)
    return result, settings


def _print_problems(result: LoadResult, base: Path) -> None:
    for problem in result.problems:
        colour = "red" if problem.severity is Severity.ERROR else "yellow"
        console.print(f"[{colour}]{escape(problem.render(base))}[/{colour}]", soft_wrap=True)


def menus_or_exit(menus_dir: Path | None = None, catalog: Path | None = None,
                  settings: Settings | None = None) -> MenuSet:
    """The valid menus, or every problem printed and exit 1 (commands that need menus)."""
    result, _settings = _load(menus_dir, catalog, settings)
    if result.menus is None:
        _print_problems(result, Path.cwd())
        console.print(f"[red]{len(errors(result.problems))} error(s): fix them first "
                      "(`hotline validate`).[/red]")
        raise typer.Exit(1)
    return result.menus


def validate(menus_dir: Path | None = MenusOption, catalog: Path | None = CatalogOption) -> None:
    """Check every menu file and the prompt catalog; list every problem with file:line.
    Phrases callers may say are checked against the installed speech models' vocabularies."""
    result, settings = _load(menus_dir, catalog)
    if result.menus is not None:
        result.problems.extend(speech_problems(result.menus, settings))
        result.problems.extend(agent_problems(result.menus, settings))
        result.problems.extend(pronunciation_problems(
            result.menus.catalog, result.menus.lexicon, catalog or settings.catalog_file,
            result.menus.line.languages))
    _print_problems(result, Path.cwd())
    found = errors(result.problems)
    if found or result.menus is None:
        console.print(f"[red]{len(found)} error(s) in {len(result.files)} file(s); the running "
                      "hotline keeps its current menus until they are fixed.[/red]")
        raise typer.Exit(1)
    menus = result.menus
    console.print(f"[green]OK[/green]: {len(menus.nodes)} nodes in {len(menus.files)} files, "
                  f"{len(menus.queues)} queues, languages {', '.join(menus.line.languages)}; "
                  f"version {menus.version}")


def agent_problems(menus: MenuSet, settings: Settings) -> list[Problem]:
    agents, problems = load_agents(settings.agents_file)
    if agents is None:
        return problems
    return check_agents(agents, menus, settings.agents_file)


def speech_problems(menus: MenuSet, settings: Settings) -> list[Problem]:
    try:
        registry = load_registry(settings.model_registry)
    except RegistryError as exc:
        return exc.problems
    vocabularies = installed_vocabularies(registry, settings.models)
    return [*vocabulary_problems(menus, vocabularies),
            *unchecked_languages(menus, vocabularies)]


def schema_command(
        kind: str = typer.Argument("menus", help=f"One of: {', '.join(SCHEMAS)}."),
        output: Path | None = typer.Option(None, help="Write here instead of stdout."),
        write: bool = typer.Option(False, "--write", help="Write the project's own copy (e.g. "
                                   "menus/menu.schema.json) that the YAML files point at.")
) -> None:
    """Export the JSON Schema of the menus, agents or catalog files, for editors."""
    if kind not in SCHEMAS:
        raise typer.BadParameter(f"{kind!r}: choose one of {', '.join(SCHEMAS)}")
    text = json_schema(kind)
    if write:
        output = Settings.from_env().project_dir / SCHEMAS[kind][2]
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


def graph(root: str | None = typer.Option(None, help="Start node (default: the entry)."),
          fmt: str = typer.Option("mermaid", "--format",
                                  help="mermaid, dot, svg or png (svg/png need Graphviz)."),
          output: Path | None = typer.Option(None, help="File to write (default: stdout)."),
          menus_dir: Path | None = MenusOption, catalog: Path | None = CatalogOption) -> None:
    """Draw a menu tree for reviewers."""
    menus = menus_or_exit(menus_dir, catalog)
    try:
        text = to_mermaid(menus, root) if fmt == "mermaid" else to_dot(menus, root)
    except KeyError as exc:
        console.print(f"[red]error:[/red] {exc.args[0]}")
        raise typer.Exit(1) from exc
    if fmt in ("mermaid", "dot"):
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            console.print(f"wrote {output}")
        return
    if fmt not in ("svg", "png"):
        console.print(f"[red]error:[/red] unknown format {fmt!r}: use mermaid, dot, svg or png")
        raise typer.Exit(2)
    dot = shutil.which("dot")
    if dot is None:
        console.print("[red]error:[/red] Graphviz `dot` is not installed "
                      "(apt-get install graphviz), or use --format mermaid")
        raise typer.Exit(1)
    target = output or Path(f"menus.{fmt}")
    subprocess.run([dot, f"-T{fmt}", "-o", str(target)], input=text.encode(), check=True)
    console.print(f"wrote {target}")


def reload() -> None:
    """Make the running FastAGI server re-read the menus now (it also watches the files)."""
    result, settings = _load(None, None)
    if result.menus is None:
        _print_problems(result, Path.cwd())
        console.print("[red]Not reloading: the menus have errors; calls keep the current "
                      "menus.[/red]")
        raise typer.Exit(1)
    if not FastAgiService(settings).reload():
        console.print("FastAGI server is not running; `hotline up` starts it with these menus.")
        raise typer.Exit(3)
    console.print(f"Asked the FastAGI server to load menus {result.menus.version}.")


def simulate(script: list[Path] = typer.Option(
                 None, "--script", help="Run call transcripts (files or folders) instead of "
                                        "an interactive call."),
             at: str | None = typer.Option(None, help="Call time, ISO 8601 with offset "
                                                      "(default: now)."),
             caller: str = typer.Option("13800000001", help="Calling number."),
             menus_dir: Path | None = MenusOption, catalog: Path | None = CatalogOption) -> None:
    """Call the menus from the terminal (prompts as text; type keys or words), or run
    call transcripts and report pass/fail."""
    menus = menus_or_exit(menus_dir, catalog)
    if script:
        _run_scripts(menus, script)
        return
    when = datetime.fromisoformat(at) if at else datetime.now().astimezone()
    _interactive(menus, when, caller)


def _transcript_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return files


def _run_scripts(menus: MenuSet, paths: list[Path]) -> None:
    table = DataTable(title=f"Call transcripts against menus {menus.version}")
    table.add_column("transcript", overflow="fold")
    table.add_column("result")
    table.add_column("outcome / failures", overflow="fold")
    failed = 0
    for file in _transcript_files(paths):
        try:
            transcript = load_transcript(file)
        except TranscriptError as exc:
            failed += 1
            table.add_row(file.name, Text("invalid", style="red"), str(exc))
            continue
        result = run_transcript(menus, transcript)
        if result.passed:
            outcome = result.outcome
            queue = outcome.service if isinstance(outcome, QueueCall) else ""
            summary = (f"{outcome.kind} {queue} {outcome.intent}".strip()
                       if outcome else "hung up")
            table.add_row(file.name, Text("pass", style="green"), summary)
        else:
            failed += 1
            table.add_row(file.name, Text("FAIL", style="red"), "; ".join(result.failures))
    console.print(table)
    if failed:
        console.print(f"[red]{failed} transcript(s) failed[/red]")
        raise typer.Exit(1)


class TerminalCaller:
    """The simulator's ports: prompts printed as text, the operator types the caller's part."""

    call_id = "simulator"

    def __init__(self, menus: MenuSet, at: datetime, caller_number: str) -> None:
        self.menus = menus
        self.at = at
        self.caller_number = caller_number
        self.keys: list[str] = []

    def play(self, sound: str, escape_keys: str = ALL_KEYS) -> str | None:
        console.print(f"[cyan]♪ {escape(sound)}[/cyan]")
        return None

    def _read(self, hint: str) -> Heard | None:
        if self.keys:
            return Heard(key=self.keys.pop(0))
        try:
            answer = console.input(f"[bold]{hint}[/bold] > ").strip()
        except EOFError as exc:
            raise CallerHungUp("end of input") from exc
        if answer in ("hangup", "q"):
            raise CallerHungUp("caller hung up")
        if not answer:
            return None
        if all(ch in ALL_KEYS for ch in answer):
            self.keys = list(answer[1:])
            return Heard(key=answer[0])
        return Heard(text=answer)

    def wait_for_key(self, timeout_ms: int) -> str | None:
        heard = self._read(f"keys (Enter = silence for {timeout_ms} ms, hangup)")
        return heard.key if heard else None

    def listen(self, languages: list[str], phrases: list[str], timeout_ms: int, *,
               stream: bool = False,
               prompts: Sequence[tuple[str, str]] = ()) -> Heard | None:
        for prompt_id, language in prompts:
            TextPrompter(self.menus).play(prompt_id, language, "")
        offered = "/".join(phrases[:4]) + "…" if phrases else "anything"
        heard = self._read(f"keys or words ({offered}; Enter = silence)")
        if heard is not None and heard.text is not None:
            return Heard(text=heard.text, language=languages[0])
        return heard

    def transcribe(self, reference: str, language: str) -> str | None:
        return None  # the simulator records nothing

    def read_digits(self, sounds: Sequence[str], entry: DigitEntry) -> str | None:
        return digits_key_by_key(self.play, self.wait_for_key, sounds, entry)

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        return None

    def record_message(self, purpose: str, max_duration_s: int,
                       silence_s: int) -> RecordedMessage | None:
        answer = console.input(f"[bold]beep — seconds you speak for the {purpose} "
                               "(Enter = nothing)[/bold] > ").strip()
        if not answer.isdigit() or int(answer) == 0:
            return None
        return RecordedMessage(f"{purpose}.wav", min(int(answer), max_duration_s) * 1000)

    def get_variable(self, name: str) -> str | None:
        return self.caller_number if name == "CALLERID(num)" else None

    def set_variable(self, name: str, value: str) -> None:
        return None

    def emit(self, call_id: str, kind: str, data: dict[str, object]) -> None:
        console.print(f"[dim]event {kind}: {escape(json.dumps(data, ensure_ascii=False))}[/dim]")

    def now(self) -> datetime:
        return self.at


class TextPrompter:
    """Prompts as the words the catalog gives them."""

    def __init__(self, menus: MenuSet, keys: TerminalCaller | None = None) -> None:
        self.menus = menus
        self.keys = keys  # who types the numbers the prompts ask for

    def play(self, prompt_id: str, language: str, escape_keys: str = ALL_KEYS) -> str | None:
        text = self.menus.catalog.text(prompt_id, language)
        console.print(f"[cyan]♪ {prompt_id} ({language})[/cyan] {escape(text)}")
        return None

    def read_digits(self, prompt_ids: Sequence[str], language: str,
                    entry: DigitEntry) -> str | None:
        if self.keys is None:
            raise CallerHungUp("nobody at the terminal to key a number")
        return digits_key_by_key(lambda prompt_id: self.play(prompt_id, language),
                                 self.keys.wait_for_key, prompt_ids, entry)


def _interactive(menus: MenuSet, at: datetime, caller_number: str) -> None:
    settings = Settings.from_env()
    terminal = TerminalCaller(menus, at, caller_number)
    try:
        customers = read_sample_customers(settings.customers)
    except DirectoryUnavailable as exc:
        console.print(f"[yellow]no sample customers ({exc}): every caller is unknown[/yellow]")
        customers = []
    # The sample customers' secrets and accounts; tickets from a scratch folder, so that a
    # simulated complaint never takes a number of the live line's.
    ports = Ports(channel=terminal, prompter=TextPrompter(menus, terminal),
                  directory=InMemoryDirectory(customers),
                  recorder=terminal, events=terminal, clock=terminal,
                  router=SkillRouter.for_menus(menus, _agents(settings)), listener=terminal,
                  verifier=InMemoryVerifier(secrets_of(customers)),
                  accounts=InMemoryAccountServices(customers),
                  tickets=FileTicketIssuer(Path(tempfile.mkdtemp(prefix="hotline-sim-"))))
    console.print(f"Simulated call at {at.isoformat()} from …{caller_number[-4:]} to menus "
                  f"{menus.version}. Type keys (e.g. 1 or 6200#) or words (e.g. 挂失).")
    try:
        outcome = run_menus(menus, ports)
    except CallerHungUp:
        console.print("Caller hung up.")
        return
    queue = (f" queue={outcome.service} (Asterisk {outcome.queue}) priority={outcome.priority}"
             if isinstance(outcome, QueueCall) else "")
    console.print(f"[bold]Outcome:[/bold] {outcome.kind}{queue} intent={outcome.intent} "
                  f"language={outcome.language} reason={outcome.reason}")
    console.print(f"Path: {' > '.join(outcome.path)}")


def _agents(settings: Settings) -> list[Agent]:
    loaded, _problems = load_agents(settings.agents_file)  # `hotline validate` reports them
    return list(loaded.agents) if loaded else []


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command("schema")(schema_command)
    app.command()(graph)
    app.command()(reload)
    app.command()(simulate)

