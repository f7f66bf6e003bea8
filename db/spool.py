"""Durable event spool: one JSON line per event, appended and fsynced, so nothing a call
produced is lost while the database is away. The database layer replays it.

Writing must never break or stall a call: errors (disk full, permissions) are logged and
counted, not raised. The spool holds caller data (callback numbers): files are mode 0600.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


class EventSpool:
    """`ivr.ports.EventSink` writing to `<directory>/events-YYYYMMDD.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.failures = 0
        self._lock = threading.Lock()

    def emit(self, call_id: str, kind: str, data: dict[str, object]) -> None:
        now = datetime.now(UTC)
        # The id makes replaying idempotent (db/replay.py).
        record = {"id": uuid.uuid4().hex, "at": now.isoformat(timespec="milliseconds"),
                  "call_id": call_id,
                  "kind": kind, "data": data}
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        path = self.directory / f"events-{now:%Y%m%d}.jsonl"
        try:
            with self._lock:
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            self.failures += 1
            log.error("call %s: could not spool %s event: %s", call_id, kind, exc.strerror)

    def read_all(self) -> list[dict[str, object]]:
        """Every spooled event in order (for replay and tests)."""
        events = []
        for path in sorted(self.directory.glob("events-*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    events.append(json.loads(line))
        return events
