"""The benchmark's AGI programs: the production FastAGI server and the classic
process-per-call entry, both serving `bench.lines` routes.

    python -m bench.agi serve --port 4573        one long-running server for every call
    python -m bench.agi classic <program path>   one process per call (Asterisk's AGI())

Settings come from the environment (HOTLINE_*), as for `hotline serve` and `hotline-agi`.
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import typer

from agi.dispatch import SessionEnd, run_session
from agi.server import serve as run_server
from bench.lines import bench_routes
from runtime.settings import Settings

app = typer.Typer(add_completion=False)


@app.command()
def serve(port: int = typer.Option(..., help="FastAGI port (loopback).")) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    run_server(bench_routes(settings), settings.agi_host, port, drain_timeout_s=5.0)


@app.command()
def classic(program: Path) -> None:
    """Serve one call over stdin/stdout; `program` is `<agi-bin>/<transcript>/<route>` (the
    shell program Asterisk started, which passes its own path)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="bench-agi %(levelname)s %(name)s: %(message)s")
    key, route = program.parent.name, program.name
    routes = bench_routes(Settings.from_env(), only=key)
    # Classic AGI names no network script: the session's request is empty.
    reader = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace",
                              newline="\n")
    writer = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n",
                              line_buffering=True)
    report = run_session(reader, writer, {"": routes[f"{key}/{route}"]})
    raise typer.Exit(1 if report.end is SessionEnd.FAILED else 0)


if __name__ == "__main__":
    app()
