"""Load through real Asterisk with `Local/` callers: the SIP benchmark's series (bench.sip_load:
the same plans, director and judge, each call judged by its own call record), but each caller
is the far leg of a `Local/` channel inside Asterisk (bench.local_callers) instead of SIPp over
a SIP trunk. Callers act when the hotline waits for them, so a late IVR shows as latency, not
as a caller out of step. Needs no root; Asterisk carries both legs of every call, so its CPU
per call is higher than over SIP.

    .venv/bin/python -m bench.load [--calls 50,100,200,300] [--runs 3]
                                   [--modes fastagi,classic] [--speech-every 4]

Prints the same tables as bench.sip_load (no call setup figure: there is no SIP); results
also go to var/bench/local-<time>.json. See docs/benchmarks.md for recorded figures.
"""

from __future__ import annotations

import typer

from bench.lines import VOICE_KEYS
from bench.sip_load import SPEECH_LINES_HELP, parsed, run_series, save

app = typer.Typer(add_completion=False)


@app.command()
def main(calls: str = typer.Option("50,100,200,300", help="Concurrent calls per run."),
         runs: int = typer.Option(3, help="Runs per mode and N; figures are their medians."),
         modes: str = typer.Option("fastagi,classic", help="fastagi, classic or both."),
         classic_max: int = typer.Option(100, help="Largest N for classic AGI() (a Python "
                                         "process per call: ~75 MB each)."),
         agents: int = typer.Option(40, help="Simulated agents answering."),
         speech_every: int = typer.Option(4, help="Every n-th caller answers by voice on a "
                                          "Korean line (0: keys only)."),
         speech_lines: str = typer.Option(",".join(VOICE_KEYS),
                                          help=SPEECH_LINES_HELP)) -> None:
    counts, chosen, lines = parsed(calls, modes, speech_lines)
    save(run_series(counts, chosen, runs, classic_max, agents, speech_every, lines,
                    over_sip=False), "local")


if __name__ == "__main__":
    app()
