"""How fast the call records keep up: spooled events applied per second into SQLite and a
private PostgreSQL (Debian's server programs, `make postgres`), and how long the backlog of a
calls' outage takes to drain.

    .venv/bin/python -m bench.replay [--calls 2000] [--runs 3]

Each call writes what a real one does (call-started, ivr-finished, queue-joined,
agent-offered, queue-answered, agent-completed, call-ended: 7 events). Every run starts from
an empty schema; the figure is the median of the runs, with the spread and the machine's load.
The run also checks exactly-once: every event is in `call_events` once.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from db import migrate
from db.database import make_engine
from db.models import CallEvent
from db.postgres import PostgresServer, empty_database, postgres_bin_dir
from db.replay import SpoolReplayer
from db.spool import EventSpool
from tests.support import free_port

console = Console()
EVENTS_PER_CALL = 7


def write_calls(spool_dir: Path, calls: int) -> int:
    spool = EventSpool(spool_dir)
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    for n in range(calls):
        call = f"bench-{n}"
        at = start + timedelta(seconds=n)
        events: list[tuple[str, dict[str, object]]] = [
            ("call-started", {"caller_masked": "*******0001", "caller_key": f"k{n % 97}"}),
            ("ivr-finished", {"outcome": "queue", "queue": "cards", "language": "cmn",
                              "intent": "cards-general", "path": ["welcome.start", "main.menu",
                                                                  "cards.menu"]}),
            ("queue-joined", {"queue": "cards-cmn", "position": "1"}),
            ("agent-offered", {"queue": "cards-cmn", "agent": "cards-cmn-1"}),
            ("queue-answered", {"queue": "cards-cmn", "agent": "cards-cmn-1", "hold_s": "12"}),
            ("agent-completed", {"queue": "cards-cmn", "agent": "cards-cmn-1",
                                 "talk_s": "95", "hold_s": "12"}),
            ("call-ended", {"outcome": "queue", "reason": "routed"}),
        ]
        for kind, data in events:
            spool.emit(call, kind, {**data, "bench_at": at.isoformat()})
    return calls * EVENTS_PER_CALL


def one_run(url: str, calls: int, work: Path) -> tuple[float, int]:
    """(events per second, events recorded) from an empty schema."""
    spool_dir = work / "spool"
    shutil.rmtree(spool_dir, ignore_errors=True)
    written = write_calls(spool_dir, calls)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        replayer = SpoolReplayer(spool_dir, engine)
        started = time.perf_counter()
        report = replayer.replay()
        elapsed = time.perf_counter() - started
        assert report.error is None, report.error
        with engine.connect() as connection:
            recorded = connection.scalar(select(func.count()).select_from(CallEvent)) or 0
    finally:
        engine.dispose()
    if recorded != written:
        raise SystemExit(f"exactly-once broken: {recorded} of {written} events recorded")
    return written / elapsed, recorded


def main(calls: int = typer.Option(2000, help="Calls in the spool (7 events each)."),
         runs: int = typer.Option(3, help="Runs per database; the median is reported.")
         ) -> None:
    work = Path(tempfile.mkdtemp(prefix="hotline-replay-bench-"))
    table = Table(title=f"spool replay, {calls * EVENTS_PER_CALL} events "
                        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load "
                        f"{os.getloadavg()[0]:.2f})")
    for column in ("database", "events/s (median)", "runs", "60 s outage at 200 calls"):
        table.add_column(column)
    bin_dir = postgres_bin_dir()
    server = None
    try:
        targets: list[tuple[str, str | None]] = [("sqlite", None)]
        if bin_dir is not None:
            # Directly in /tmp, as the tests do: the server's own user must reach it.
            pg_dir = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
            server = PostgresServer(pg_dir, free_port(), bin_dir)
            server.init()
            targets.append(("postgresql", server.url))
        else:
            console.print("PostgreSQL is not installed (`make postgres`): SQLite only")
        for name, base_url in targets:
            rates = []
            for run in range(runs):
                if base_url is None:
                    url = f"sqlite:///{work / f'records-{run}.db'}"
                else:
                    url = base_url
                    empty_database(url)
                rate, _recorded = one_run(url, calls, work)
                rates.append(rate)
            median = statistics.median(rates)
            # A 60 s outage at 200 calls: 200 calls of about 3 minutes each write ~200 × 7
            # events every 3 minutes, about 8 events/s, so 60 s leave ~470 events behind.
            backlog = 200 * EVENTS_PER_CALL * 60 / 180
            table.add_row(name, f"{median:,.0f}",
                          ", ".join(f"{r:,.0f}" for r in rates),
                          f"{backlog / median:.2f} s to drain {backlog:.0f} events")
    finally:
        if server is not None:
            if server.running():
                server.stop("immediate")
            shutil.rmtree(server.base_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
