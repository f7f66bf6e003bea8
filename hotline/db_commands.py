"""`hotline db ...` (schema, sample data, spool replay) and `hotline records ...` (the
call-records service)."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from db import migrate
from db.database import make_engine, masked_url, sessions
from db.models import Call, QueueLeg
from db.postgres import PostgresError, ensure_postgres_installed
from db.replay import SpoolReplayer
from db.sample_data import SampleDataError, load_sample_customers
from db.sample_history import seed_history
from hotline.output import DataTable, plain
from ivr.verification import Method, hash_secret, well_formed
from pbx.provision import ProvisionError
from runtime.settings import Settings
from services.records import Recorder, read_status

db_app = typer.Typer(help="The call-records database (SQLite by default, PostgreSQL by URL).",
                     no_args_is_help=True)
records_app = typer.Typer(help="The call-records service: Asterisk's events and the spool "
                               "into the database.", no_args_is_help=True)
console = Console()


def _database_error(url: str, exc: Exception) -> typer.Exit:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    console.print(f"[red]error:[/red] database {masked_url(url)}: {first}\n"
                  "  fix: check HOTLINE_DATABASE_URL and that the server is up")
    return typer.Exit(1)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Create or migrate the schema to the newest version (Alembic)."""
    url = Settings.from_env().database_url
    try:
        migrate.upgrade(url)
    except SQLAlchemyError as exc:
        raise _database_error(url, exc) from exc
    console.print(f"database {masked_url(url)} at schema {migrate.head_revision()}")


@db_app.command("install-postgres")
def install_postgres_command() -> None:
    """Install the distribution's PostgreSQL server programs if missing (the tests start a
    private server from them; needs root the first time)."""
    try:
        found = ensure_postgres_installed()
    except (PostgresError, ProvisionError) as exc:
        console.print(f"[red]error:[/red] {plain(exc)}")
        raise typer.Exit(1) from exc
    console.print(f"PostgreSQL server programs in {found}")


@db_app.command("load-sample")
def load_sample_command() -> None:
    """Load the sample customers and accounts (db/sample_customers.yaml) for demos."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        count = load_sample_customers(engine, settings.customers)
    except SampleDataError as exc:
        console.print(f"[red]error:[/red] {plain(exc)}")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        raise _database_error(settings.database_url, exc) from exc
    finally:
        engine.dispose()
    console.print(f"{count} sample customers loaded")


@db_app.command("sample-history")
def sample_history_command(
        days: Annotated[int, typer.Option(min=1, max=366, help="days of history")] = 28) -> None:
    """Add weeks of made-up calls, surveys and complaints for trying the console (demo
    databases only: refused when the database already holds calls)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with sessions(engine)() as session, session.begin():
            if session.scalar(select(func.count()).select_from(Call)):
                console.print("[red]error:[/red] this database already holds calls; sample "
                              "history goes only into an empty (demo) database")
                raise typer.Exit(1)
            made = seed_history(session, now=datetime.now(UTC), days=days)
    except SQLAlchemyError as exc:
        raise _database_error(settings.database_url, exc) from exc
    finally:
        engine.dispose()
    console.print(f"{made.calls} sample calls over {days} days added "
                  f"({made.answered} answered, {made.abandoned} abandoned, "
                  f"{len(made.complaints)} complaints)")


@db_app.command("hash-secret")
def hash_secret_command(
        method: str = typer.Option("pin", help="pin (6 digits) or id_and_card (the ID's last "
                                               "6, X as *, then the card's last 4)."),
) -> None:
    """Print the argon2id hash of a customer's verification secret, for a customer file's
    `secrets:`. The secret is asked for without echo and never written anywhere."""
    if method not in set(Method):
        console.print(f"[red]error:[/red] unknown method {plain(method)}; use pin or "
                      "id_and_card")
        raise typer.Exit(2)
    secret = typer.prompt("secret", hide_input=True).strip()
    if not well_formed(method, secret):
        console.print(f"[red]error:[/red] not a {method} secret: a PIN is 6 digits; "
                      "id_and_card is the ID's last 6 (X as *) then the card's last 4")
        raise typer.Exit(2)
    typer.echo(hash_secret(method, secret))


@db_app.command("replay")
def replay_command() -> None:
    """Apply the event spool to the database now (the records service does this every
    second); each event is applied once."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        report = SpoolReplayer(settings.spool_dir, engine).replay()
    finally:
        engine.dispose()
    console.print(f"{report.applied} applied, {report.duplicates} already there, "
                  f"{report.rejected} set aside")
    if report.error:
        console.print(f"[red]error:[/red] database unavailable: {report.error}")
        raise typer.Exit(1)


@db_app.command("calls")
def calls_command(limit: int = typer.Option(20, help="How many of the newest calls.")) -> None:
    """The newest call records (caller numbers masked)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with sessions(engine)() as session:
            calls = session.scalars(select(Call).order_by(Call.id.desc()).limit(limit)).all()
            legs = {c.call_id: session.scalars(select(QueueLeg).where(
                QueueLeg.call_id == c.call_id)).all() for c in calls}
    except SQLAlchemyError as exc:
        raise _database_error(settings.database_url, exc) from exc
    finally:
        engine.dispose()
    table = DataTable("call", "started", "caller", "language", "outcome", "intent", "queue legs")
    for call in calls:
        table.add_row(call.call_id, f"{call.started_at:%Y-%m-%d %H:%M:%S}"
                      if call.started_at else "", call.caller_masked or "",
                      call.language or "", call.outcome or "", call.intent or "",
                      "; ".join(f"{leg.queue} {leg.result or 'waiting'} {leg.wait_s or 0} s"
                                f"{' ' + leg.agent if leg.agent else ''}"
                                for leg in legs[call.call_id]))
    console.print(table)


@records_app.command("serve")
def serve_command(port: int = typer.Option(0, help="Status port (default: "
                                                   "HOTLINE_RECORDER_PORT).")) -> None:
    """Run the call-records service in the foreground."""
    settings = Settings.from_env()
    recorder = Recorder(settings)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        recorder.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    recorder.run(port or settings.recorder_port)


@records_app.command("status")
def status_command() -> None:
    """The running service's state: database reachable, events applied, AMI connected."""
    settings = Settings.from_env()
    try:
        status = read_status(settings.recorder_port)
    except OSError as exc:
        console.print(f"[red]error:[/red] records service not reachable on 127.0.0.1:"
                      f"{settings.recorder_port} ({exc}); start it with `hotline up`")
        raise typer.Exit(1) from exc
    console.print_json(json.dumps(status))
