"""`hotline followups`: callers' messages waiting for an answer (due within 24 hours), and
recording what was done about one."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from db import follow_ups as rules
from db.models import FollowUp
from db.privacy import mask_number
from hotline.complaint_commands import cli_session, local_time
from hotline.output import plain, print_rows

follow_ups_app = typer.Typer(help="Callers' messages to answer: list (no command), show, done.",
                             invoke_without_command=True)
console = Console()


@follow_ups_app.callback()
def list_command(
        ctx: typer.Context,
        status: str | None = typer.Option("open", help="open, done, or '' for all"),
        late_only: bool = typer.Option(False, "--late", help="Only those past the deadline."),
        as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout instead of a table.")
) -> None:
    """Messages soonest due first, with the deadline and whether it was missed."""
    if ctx.invoked_subcommand is not None:
        return
    now = datetime.now(UTC)
    with cli_session() as session:
        try:
            found = rules.find(session, status=status or None)
        except rules.FollowUpError as exc:
            console.print(f"[red]error:[/red] {plain(exc)}")
            raise typer.Exit(1) from exc
        rows = [(f, rules.late(f, now)) for f in found]
        columns = ["id", "left", "due", "status", "queue", "language", "intent", "reply to",
                   "late"]
        values = [[str(f.id), local_time(f.opened_at), local_time(f.due_at), f.status,
                   f.queue or "", f.language or "", f.intent or "",
                   mask_number(f.reply_to) if f.reply_to else "", "late" if is_late else ""]
                  for f, is_late in rows if is_late or not late_only]
    print_rows(console, columns, values, f"{len(values)} message(s)", columns.index("late"),
               as_csv)


def _follow_up(session: Session, follow_up_id: int) -> FollowUp:
    found = session.get(FollowUp, follow_up_id)
    if found is None:
        console.print(f"[red]error:[/red] no follow-up {follow_up_id}")
        raise typer.Exit(1)
    return found


@follow_ups_app.command("show")
def show_command(follow_up_id: int) -> None:
    """One message: where it is stored, the number to answer on, and what was done."""
    say = functools.partial(console.print, markup=False, highlight=False)  # callers' data
    with cli_session() as session:
        f = _follow_up(session, follow_up_id)
        late = " — late" if rules.late(f, datetime.now(UTC)) else ""
        say(f"follow-up {f.id} {f.status}{late}: left {local_time(f.opened_at)}, due "
            f"{local_time(f.due_at)}, call {f.call_id}")
        say(f"  queue {f.queue or '-'}, language {f.language or '-'}, intent "
            f"{f.intent or '-'}, customer {f.customer_id or '-'}")
        say(f"  answer on: {f.reply_to or 'no number (withheld caller id)'}")
        say(f"  message: {f.message_ref} ({(f.duration_ms or 0) / 1000:.0f} s)")
        if f.status == "done":
            say(f"  done {local_time(f.done_at)} by {f.done_by}: {f.outcome}")


@follow_ups_app.command("done")
def done_command(follow_up_id: int,
                 by: str = typer.Option(..., help="Who answered the message."),
                 outcome: str = typer.Option(..., help="What was done (called back, ...).")
                 ) -> None:
    """Record that a message was answered (stops its 24-hour clock)."""
    with cli_session() as session:
        follow_up = _follow_up(session, follow_up_id)
        try:
            rules.complete(follow_up, datetime.now(UTC), by=by, outcome=outcome)
        except rules.FollowUpError as exc:
            console.print(f"[red]error:[/red] {plain(exc)}")
            raise typer.Exit(1) from exc
        late = rules.late(follow_up, datetime.now(UTC))
    console.print(f"follow-up {follow_up_id} done{' (late)' if late else ''}", markup=False)
