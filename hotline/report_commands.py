"""`hotline report`: KPIs for a period (db/kpis.py) as a table, CSV and PNG charts."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from db.database import make_engine, masked_url, sessions
from db.kpis import Kpis, KpiSettings, compute, percent, seconds
from hotline.output import DataTable
from runtime.settings import Settings
from services.charts import draw_charts

console = Console()


def report_command(
        start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, local time)."),
        end: str | None = typer.Option(None, "--to", help="Last day, included (default: "
                                                          "the first day)."),
        service_level_s: int = typer.Option(20, help="Answered within this many seconds."),
        short_abandon_s: int = typer.Option(5, help="Abandons shorter than this are left "
                                                    "out of the second service level."),
        repeat_days: int = typer.Option(7, help="First-contact resolution window."),
        csv_file: Path | None = typer.Option(None, "--csv", help="Also write the figures "
                                                                 "here."),
        charts_dir: Path | None = typer.Option(None, "--charts", help="Also draw PNG charts "
                                                                      "into this folder."),
) -> None:
    """Calls, IVR containment, service level, speed of answer, abandonment, handle time,
    first-contact resolution, callbacks kept, complaint replies and satisfaction."""
    settings = KpiSettings(service_level_s=service_level_s, short_abandon_s=short_abandon_s,
                           repeat_window_days=repeat_days)
    local = ZoneInfo(settings.timezone)
    try:
        first = date.fromisoformat(start)
        last = date.fromisoformat(end) if end else first
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}; dates are YYYY-MM-DD")
        raise typer.Exit(2) from exc
    since = datetime.combine(first, time(0), local)
    until = datetime.combine(last + timedelta(days=1), time(0), local)
    url = Settings.from_env().database_url
    engine = make_engine(url)
    try:
        with sessions(engine)() as session:
            kpis = compute(session, since, until, datetime.now(UTC), settings)
    except SQLAlchemyError as exc:
        console.print(f"[red]error:[/red] database {masked_url(url)}: "
                      f"{str(exc).splitlines()[0]}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    table = DataTable("measure", "value", title=f"{first} – {last}")
    for measure, value in kpis.rows():
        table.add_row(measure, value)
    console.print(table)
    _satisfaction_tables(kpis)
    _agent_table(kpis)
    if csv_file is not None:
        write_csv(kpis, csv_file)
        console.print(f"figures written to {csv_file}")
    if charts_dir is not None:
        for chart in draw_charts(kpis, charts_dir):
            console.print(f"chart {chart}")


def _satisfaction_tables(kpis: Kpis) -> None:
    for title, groups in (("by day", kpis.satisfaction_by_day),
                          ("by queue", kpis.satisfaction_by_queue),
                          ("by agent", kpis.satisfaction_by_agent)):
        if not groups:
            continue
        goal = percent(kpis.settings.satisfaction_goal)
        table = DataTable(title.split()[1], "surveys", "satisfied",
                      title=f"satisfaction {title} (goal {goal})")
        for name, group in sorted(groups.items()):
            below = group.rate is not None and group.rate < kpis.settings.satisfaction_goal
            table.add_row(name, str(group.surveys), percent(group.rate),
                          style="red" if below else None)
        console.print(table)


def _agent_table(kpis: Kpis) -> None:
    if not kpis.agents:
        return
    table = DataTable("agent", "ready", "paused", "talk", "occupancy",
                      title="agents (desk presence)")
    for agent, spent in sorted(kpis.agents.items()):
        table.add_row(agent, seconds(spent.ready_s), _pauses(spent.paused_s),
                      seconds(spent.talk_s), percent(spent.occupancy))
    console.print(table)


def _pauses(paused: dict[str, float]) -> str:
    return ", ".join(f"{reason} {seconds(s)}" for reason, s in sorted(paused.items())) or "-"


def write_csv(kpis: Kpis, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["measure", "value"])
        writer.writerows(kpis.rows())
        for dimension, groups in (("day", kpis.satisfaction_by_day),
                                  ("queue", kpis.satisfaction_by_queue),
                                  ("agent", kpis.satisfaction_by_agent)):
            for name, group in sorted(groups.items()):
                writer.writerow([f"satisfaction {dimension} {name}",
                                 f"{percent(group.rate)} ({group.surveys} surveys)"])
        for agent, spent in sorted(kpis.agents.items()):
            writer.writerow([f"occupancy agent {agent}",
                             f"{percent(spent.occupancy)} (ready {seconds(spent.ready_s)}, "
                             f"paused {_pauses(spent.paused_s)}, talk {seconds(spent.talk_s)})"])

