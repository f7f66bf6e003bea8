"""`hotline recordings`: list, register, verify, check, hold and purge compliance recordings;
`hotline audit`: read and verify the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer
from rich.console import Console
from sqlalchemy import select

from db import audit
from db import recordings as store
from db.audit import AuditSeal
from db.database import make_engine
from db.models import KEPT_RECORDINGS, AuditEntry, Recording
from hotline.complaint_commands import cli_session
from hotline.output import DataTable, plain
from ivr.menu_loader import load_menus
from runtime.settings import Settings
from services.records import recordings_cipher, retention_policy

recordings_app = typer.Typer(help="Compliance recordings: integrity, retention, legal hold.",
                             no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of playbacks, downloads, scores, holds, purges.",
                        invoke_without_command=True)
console = Console()
RETENTION_ACTOR_CLI = "admin-cli"


def _now() -> datetime:
    return datetime.now(UTC)


@recordings_app.command("list")
def list_command(limit: int = typer.Option(50, help="Newest first.")) -> None:
    """Registered recordings with their status, retention date and hold."""
    with cli_session() as session:
        rows = session.scalars(select(Recording).order_by(Recording.id.desc()).limit(limit))
        table = DataTable("id", "call", "status", "agent", "queue", "category", "seconds",
                      "keep until", "hold")
        for row in rows:
            table.add_row(str(row.id), row.call_id, row.status, row.agent or "",
                          row.queue or "", row.category,
                          f"{(row.duration_ms or 0) / 1000:.1f}", str(row.retain_until or ""),
                          "yes" if row.legal_hold else "")
    console.print(table)


@recordings_app.command("register")
def register_command() -> None:
    """Store and register ended calls' recordings now (the records service does this every
    few seconds)."""
    settings = Settings.from_env()
    menus = load_menus(settings.menus, settings.catalog_file).menus
    engine = make_engine(settings.database_url)
    try:
        report = store.Registrar(engine, settings.recordings_dir,
                                 lambda: retention_policy(menus),
                                 recordings_cipher(settings)).run_once()
    finally:
        engine.dispose()
    console.print(f"{report.stored} stored, {report.waiting} still being written")
    for problem in report.alarms + report.errors:
        console.print(f"[red]alarm:[/red] {plain(problem)}")
    if report.alarms or report.errors:
        raise typer.Exit(1)


@recordings_app.command("verify")
def verify_command() -> None:
    """Check every stored recording against its registered size and sha256: reports files
    that are missing, truncated or changed (exit 1)."""
    with cli_session() as session:
        problems = store.verify(session)
        total = len(session.scalars(select(Recording.id).where(
            Recording.status.in_(KEPT_RECORDINGS))).all())
    for problem in problems:
        console.print(f"[red]{plain(problem.problem)}:[/red] recording {problem.recording_id} "
                      f"(call {problem.call_id})")
    if problems:
        raise typer.Exit(1)
    console.print(f"OK: {total} stored recording(s), each matching its size and sha256")


@recordings_app.command("check")
def check_command() -> None:
    """Alarms: answered calls without a recording, missing or empty recordings, files no
    record names (exit 1 when there are any)."""
    settings = Settings.from_env()
    with cli_session() as session:
        found = store.alarms(session, settings.recordings_dir, _now())
    for alarm in found:
        console.print(f"[red]alarm:[/red] {plain(alarm)}")
    if found:
        raise typer.Exit(1)
    console.print("OK: every answered call has a stored recording; no stray files")


@recordings_app.command("purge")
def purge_command(
        dry_run: bool = typer.Option(False, "--dry-run", help="List, delete nothing."),
        today: str | None = typer.Option(None, help="YYYY-MM-DD (default: today, UTC)"),
) -> None:
    """Delete recordings past their retention date that are not on legal hold. Each deletion
    is written to the audit log."""
    day = date.fromisoformat(today) if today else _now().date()
    with cli_session() as session:
        purged = store.purge(session, Settings.from_env().recordings_dir, day, _now(),
                             dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for item in purged:
        console.print(f"{verb} recording {item.recording_id} (call {item.call_id}, "
                      f"{item.category}, kept until {item.retain_until})")
    console.print(f"{len(purged)} recording(s) {verb}")


@recordings_app.command("hold")
def hold_command(recording_id: int, reason: str = typer.Option(..., help="Why (case, ticket)"),
                 release: bool = typer.Option(False, "--release", help="Lift the hold.")) -> None:
    """Put a recording on legal hold (never purged) or lift the hold."""
    with cli_session() as session:
        try:
            store.hold(session, recording_id, not release, RETENTION_ACTOR_CLI, _now(), reason)
        except LookupError as exc:
            console.print(f"[red]error:[/red] {plain(exc)}")
            raise typer.Exit(1) from exc
    console.print(f"recording {recording_id}: {'released' if release else 'on legal hold'}")


@audit_app.callback()
def audit_list(ctx: typer.Context, limit: int = typer.Option(50, help="Newest first.")) -> None:
    """The newest audit entries."""
    if ctx.invoked_subcommand is not None:
        return
    with cli_session() as session:
        table = DataTable("at (UTC)", "who", "action", "what", "detail")
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())
                                     .limit(limit)):
            table.add_row(f"{entry.at:%Y-%m-%d %H:%M:%S}", entry.actor, entry.action,
                          entry.target, entry.detail or "")
    console.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: any changed or removed entry is reported (exit 1)."""
    with cli_session() as session:
        problems = list(audit.verify_chain(session, AuditSeal.load(
            Settings.from_env().secrets_dir)))
    for problem in problems:
        console.print(f"[red]tampered:[/red] {plain(problem)}")
    if problems:
        raise typer.Exit(1)
    console.print("OK: the audit log is complete and unchanged")
