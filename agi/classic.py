"""Classic AGI entry (`hotline-agi <route>`): Asterisk starts one process per call and talks
over stdin/stdout. Same dispatch as the FastAGI server, for low-volume installs.

stdout is the AGI channel: nothing else may ever be written to it. Logs go to stderr, which
Asterisk shows on its console only at high verbosity.
"""

import io
import logging
import sys

from agi.dispatch import SessionEnd, run_session
from agi.routes import ROUTES


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="hotline-agi %(levelname)s %(name)s: %(message)s")
    # Line-buffered UTF-8 regardless of the locale Asterisk starts us with.
    reader = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace",
                              newline="\n")
    writer = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n",
                              line_buffering=True)
    report = run_session(reader, writer, ROUTES)
    return 1 if report.end is SessionEnd.FAILED else 0


if __name__ == "__main__":
    raise SystemExit(main())
