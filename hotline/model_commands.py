"""`hotline models fetch|list`: install speech models and see which languages they serve."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn
from rich.table import Table

from runtime.settings import Settings
from speech.models import (
    ModelError,
    Registry,
    RegistryError,
    State,
    check_model,
    fetch_model,
    load_registry,
)

models_app = typer.Typer(help="Speech models (Vosk): fetch and list.", no_args_is_help=True)
console = Console()


def registry_or_exit(settings: Settings) -> Registry:
    try:
        return load_registry(settings.model_registry)
    except RegistryError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem.render(settings.project_dir)}[/red]", highlight=False)
        raise typer.Exit(1) from exc


@models_app.command("fetch")
def fetch_command(
        names: list[str] = typer.Argument(..., help="Model names from speech/models.yaml."),
        sha256: str = typer.Option("", help="Expected archive sha256 when the registry has "
                                            "none (copy it from the publisher's page)."),
        base_url: str = typer.Option("", help="Mirror of the official archives.")) -> None:
    """Download models, verify their sha256 and unpack them into the models folder."""
    settings = Settings.from_env()
    registry = registry_or_exit(settings)
    for name in names:
        status = check_model(settings.models, name, registry.models[name]) \
            if name in registry.models else None
        if status is not None and status.state is State.READY:
            console.print(f"{name}: already installed and verified")
            continue
        with Progress("[progress.description]{task.description}", BarColumn(),
                      DownloadColumn(), TransferSpeedColumn(), console=console,
                      transient=True) as progress:
            task = progress.add_task(f"fetching {name}", total=None)

            def show(done: int, total: int | None, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            try:
                status = fetch_model(
                    registry, name, settings.models,
                    base_url=base_url or settings.models_url, sha256=sha256 or None,
                    progress=show)
            except ModelError as exc:
                console.print(f"[red]error:[/red] {exc}", highlight=False)
                raise typer.Exit(1) from exc
        console.print(f"{name}: {status.state} — {status.detail} ({status.path})",
                      highlight=False)


@models_app.command("list")
def list_command() -> None:
    """Registered models: installed, verified, and which languages they serve."""
    settings = Settings.from_env()
    registry = registry_or_exit(settings)
    serves: dict[str, list[str]] = {}
    for language, names in registry.languages.items():
        for name in names:
            serves.setdefault(name, []).append(language)
    table = Table(title=f"speech models in {settings.models}")
    for column in ("model", "languages", "state", "grammar", "rate", "detail"):
        table.add_column(column)
    statuses = {name: check_model(settings.models, name, entry)
                for name, entry in registry.models.items()}
    for name, entry in registry.models.items():
        status = statuses[name]
        colour = "green" if status.usable else "red" if name in serves else "dim"
        table.add_row(name, ", ".join(serves.get(name, [])) or "-",
                      f"[{colour}]{status.state}[/{colour}]", "yes" if entry.grammar else "no",
                      f"{entry.sample_rate_hz // 1000} kHz", status.detail)
    console.print(table)
    for language, names in registry.languages.items():
        if not any(statuses[n].usable for n in names):
            console.print(f"[yellow]{language}: no usable model — its callers use keys "
                          f"only[/yellow]")
