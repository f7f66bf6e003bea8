"""`hotline complaints`: list and filter complaint tickets (deadlines, overdue flags) and move
them through the workflow (assign, reply, resolve, close, extend)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db import complaints as rules
from db.audit import AuditSeal, seal_session
from db.database import make_engine, masked_url, sessions
from db.models import Complaint
from db.privacy import mask_number
from hotline.output import plain, print_rows
from runtime.settings import Settings

complaints_app = typer.Typer(help="Complaint tickets: list (no command) and workflow.",
                             invoke_without_command=True)
console = Console()
LOCAL = ZoneInfo("Asia/Shanghai")


@contextmanager
def cli_session() -> Iterator[Session]:
    settings = Settings.from_env()
    url = settings.database_url
    engine = make_engine(url)
    try:
        with sessions(engine)() as session, session.begin():
            yield seal_session(session, AuditSeal.load(settings.secrets_dir))
    except SQLAlchemyError as exc:
        console.print(f"[red]error:[/red] database {masked_url(url)}: "
                      f"{str(exc).splitlines()[0]}\n  fix: `hotline db upgrade`, and check "
                      "HOTLINE_DATABASE_URL and that the server is up")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def local_time(moment: datetime | None) -> str:
    return f"{moment.astimezone(LOCAL):%Y-%m-%d %H:%M}" if moment else ""


@complaints_app.callback()
def list_command(
        ctx: typer.Context,
        status: str | None = typer.Option(None, help="new, assigned, replied, resolved, closed"),
        category: str | None = typer.Option(None, help="e.g. complaint-fees"),
        overdue: bool = typer.Option(False, "--overdue", help="Only tickets past a deadline."),
        as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout instead of a table.")
) -> None:
    """List complaint tickets, oldest first, with both deadlines and what is overdue."""
    if ctx.invoked_subcommand is not None:
        return
    now = datetime.now(UTC)
    with cli_session() as session:
        rows = [(c, rules.overdue(c, now)) for c in rules.find(session, status=status,
                                                                category=category)]
        rows = [(c, late) for c, late in rows if late or not overdue]
        columns = ["ticket", "opened", "category", "status", "assigned", "reply due",
                   "resolution due", "overdue", "callback"]
        values = [[c.ticket, local_time(c.opened_at), c.category, c.status, c.assigned_to or "",
                   local_time(c.reply_due), local_time(c.resolution_due), " ".join(late),
                   mask_number(c.callback_number) if c.callback_number else ""]
                  for c, late in rows]
    print_rows(console, columns, values, f"{len(values)} complaint(s)",
               columns.index("overdue"), as_csv)


def _ticket(session: Session, ticket: str) -> Complaint:
    found = session.get(Complaint, ticket)
    if found is None:
        console.print(f"[red]error:[/red] no complaint {ticket}")
        raise typer.Exit(1)
    return found


def _step(ticket: str, action: Callable[[Session, Complaint, datetime], str]) -> None:
    with cli_session() as session:
        complaint = _ticket(session, ticket)
        try:
            message = action(session, complaint, datetime.now(UTC))
        except rules.ComplaintError as exc:
            console.print(f"[red]error:[/red] {plain(exc)}")
            raise typer.Exit(1) from exc
    console.print(message, markup=False)


@complaints_app.command("show")
def show_command(ticket: str) -> None:
    """One ticket: deadlines, extensions, the recorded description and its transcript."""
    say = functools.partial(console.print, markup=False, highlight=False)  # operator text
    with cli_session() as session:
        c = _ticket(session, ticket)
        late = rules.overdue(c, datetime.now(UTC))
        say(f"ticket {c.ticket} ({c.category}) {c.status}"
                      f"{' — overdue: ' + ', '.join(late) if late else ''}")
        say(f"  opened {local_time(c.opened_at)}, call {c.call_id or '-'}")
        say(f"  reply due {local_time(c.reply_due)} (replied {local_time(c.replied_at) or '-'})")
        say(f"  resolution due {local_time(c.resolution_due)} "
                      f"(resolved {local_time(c.resolved_at) or '-'})")
        for extension in c.extensions:
            approval = f" approved by {extension.approved_by}" if extension.approved_by else ""
            say(f"  extended {local_time(extension.extended_at)} to "
                          f"{local_time(extension.new_due)}: {extension.approval_ref}{approval}")
        say(f"  description: {c.description_ref or '-'}")
        if c.transcript:
            say(f"  transcript: {c.transcript}")


def _advance(status: str, assignee: str | None = None
             ) -> Callable[[Session, Complaint, datetime], str]:
    def action(_session: Session, complaint: Complaint, now: datetime) -> str:
        rules.advance(complaint, status, now, assignee=assignee)
        return f"{complaint.ticket} {status}{' to ' + assignee if assignee else ''}"

    return action


@complaints_app.command("assign")
def assign_command(ticket: str, to: str = typer.Option(..., help="Who handles it.")) -> None:
    _step(ticket, _advance("assigned", to))


@complaints_app.command("reply")
def reply_command(ticket: str) -> None:
    """Record the first reply to the customer (stops the 48-hour clock)."""
    _step(ticket, _advance("replied"))


@complaints_app.command("resolve")
def resolve_command(ticket: str) -> None:
    _step(ticket, _advance("resolved"))


@complaints_app.command("close")
def close_command(ticket: str) -> None:
    _step(ticket, _advance("closed"))


@complaints_app.command("extend")
def extend_command(ticket: str,
                   reason: str = typer.Option(..., help="Why more time is needed."),
                   approved_by: str | None = typer.Option(None, help="Second extension: who "
                                                                     "approved it."),
                   approval_ref: str | None = typer.Option(None, help="Second extension: "
                                                                      "where the approval is "
                                                                      "recorded.")) -> None:
    """Extend the resolution deadline (to 30 days; then 30 more only with an approval)."""
    _step(ticket, lambda s, c, now: f"{ticket} now due " + local_time(rules.extend(
        c, now, reason=reason, approved_by=approved_by, approval_ref=approval_ref)))
