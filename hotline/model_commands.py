"""`hotline models fetch|list`: install speech models and see which languages they serve."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn
from rich.text import Text

from hotline.output import DataTable, plain
from runtime.settings import Settings
from speech.models import (
    ModelError,
    Registry,
    RegistryError,
    State,
    check_model,
    fetch_model,
    load_registry,
    lock_file,
)

models_app = typer.Typer(help="Speech models (Vosk): fetch and list.", no_args_is_help=True)
console = Console()


def registry_or_exit(settings: Settings) -> Registry:
    try:
        return load_registry(settings.model_registry)
    except RegistryError as exc:
        for problem in exc.problems:
            console.print(f"[red]{plain(problem.render(settings.project_dir))}[/red]",
                          highlight=False)
        raise typer.Exit(1) from exc


@models_app.command("fetch")
def fetch_command(
        names: list[str] = typer.Argument(..., help="Model names from speech/models.yaml."),
        sha256: str = typer.Option("", help="Expected archive sha256 when the registry has "
                                            "none (copy it from the publisher's page)."),
        url: str = typer.Option("", "--url", "--base-url",
                                help="Mirror of the official archives (or HOTLINE_MODELS_URL)."),
) -> None:
    """Download models, verify them and unpack them into the models folder.

    The publisher gives no checksums: the first fetch pins the archive's sha256, its size
    and the unpacked tree's sha256 in speech/models.lock (commit it); every later fetch must
    match it, and a changed archive is refused."""
    settings = Settings.from_env()
    registry = registry_or_exit(settings)
    lock = lock_file(settings.model_registry)
    for name in names:
        status = check_model(settings.models, name, registry.models[name],
                             registry.locked(name)) if name in registry.models else None
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
                fetched = fetch_model(
                    registry, name, settings.models, lock=lock,
                    base_url=url or settings.models_url, sha256=sha256 or None,
                    progress=show)
            except ModelError as exc:
                console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
                raise typer.Exit(1) from exc
        status = fetched.status
        console.print(f"{name}: {status.state} — {status.detail} ({status.path})",
                      highlight=False, markup=False)
        if fetched.pinned:
            console.print(f"{name}: pinned on first use in {lock}: commit that file so every "
                          "later install is checked against this download",
                          highlight=False, markup=False)


@models_app.command("list")
def list_command() -> None:
    """Registered models: installed, verified, and which languages they serve."""
    settings = Settings.from_env()
    registry = registry_or_exit(settings)
    serves: dict[str, list[str]] = {}
    for language, names in registry.languages.items():
        for name in names:
            serves.setdefault(name, []).append(language)
    table = DataTable(title=f"speech models in {settings.models}")
    for column in ("model", "languages", "for", "state", "grammar", "rate", "pinned", "detail"):
        table.add_column(column)
    statuses = {name: check_model(settings.models, name, entry, registry.locked(name))
                for name, entry in registry.models.items()}
    for name, entry in registry.models.items():
        status = statuses[name]
        colour = "green" if status.usable else "red" if name in serves else "dim"
        pin = registry.locked(name)
        table.add_row(name, ", ".join(serves.get(name, [])) or "-", entry.purpose,
                      Text(status.state, style=colour), "yes" if entry.grammar else "no",
                      f"{entry.sample_rate_hz // 1000} kHz",
                      f"{pin.archive_sha256[:12]}… {pin.locked_at[:10]}" if pin else "-",
                      status.detail)
    console.print(table)
    for language, names in registry.languages.items():
        if not any(statuses[n].usable for n in names):
            console.print(f"[yellow]{language}: no usable model — its callers use keys "
                          f"only[/yellow]")
