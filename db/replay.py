"""Replays the event spool into the database. The spool (db/spool.py) is the calls' durable
write-ahead log: calls only append to it, so a database that is down or slow never blocks a
call; this replayer applies what is new whenever the database answers.

Exactly once: the replayed byte offset of each spool file is committed in the same
transaction as the events it covers, and each event is applied only if its id is new.
A line that can never be applied is set aside in `rejected.jsonl` with the reason, so one
bad line cannot stop the rest.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db.database import sessions
from db.models import SpoolProgress
from db.records import BATCH_KEY, BadEvent, Batch, apply_event

log = logging.getLogger(__name__)

BATCH_EVENTS = 500  # per transaction: bounded work lost to a failure, few commits
REJECTED_FILE = "rejected.jsonl"


@dataclass
class ReplayReport:
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None  # the database could not be reached or refused a write
    files: list[str] = field(default_factory=list)


class SpoolReplayer:
    def __init__(self, spool_dir: Path, engine: Engine) -> None:
        self.spool_dir = spool_dir
        self.engine = engine
        self._sessions = sessions(engine)

    def replay(self) -> ReplayReport:
        """Apply everything spooled and not yet applied. Never raises for a database that is
        down: the report says so and the next call carries on from the last commit."""
        report = ReplayReport()
        try:
            for path in sorted(self.spool_dir.glob("events-*.jsonl")):
                self._replay_file(path, report)
        except SQLAlchemyError as exc:
            report.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            log.warning("spool replay paused, database unavailable: %s", report.error)
        return report

    def _replay_file(self, path: Path, report: ReplayReport) -> None:
        with self._sessions() as session:
            progress = session.get(SpoolProgress, path.name)
            offset = progress.offset if progress else 0
        size = path.stat().st_size
        if size <= offset:
            return
        report.files.append(path.name)
        with open(path, "rb") as spool:
            spool.seek(offset)
            while True:
                batch, end = _read_lines(spool, BATCH_EVENTS)
                if end == offset:
                    return
                if not self._apply_batch(path.name, batch, end, report):
                    # A bad line in it: again one event at a time, the bad one set aside.
                    with self._sessions() as session, session.begin():
                        for line_offset, raw in batch:
                            self._apply_line(session, path.name, line_offset, raw, report)
                        _save_progress(session, path.name, end)
                offset = end
                if offset >= size:
                    # What was there when the round began: events written since wait for
                    # the next round, so a stream faster than the database cannot keep the
                    # records service from registering recordings and dialling callbacks.
                    return
                spool.seek(offset)

    def _apply_batch(self, file: str, lines: list[tuple[int, bytes]], end: int,
                     report: ReplayReport) -> bool:
        """The fast path: the whole batch in one transaction, its lookups made once, no
        savepoint per event. False (nothing written) when a line is bad."""
        try:
            records = [(_event_id(file, offset, record), record)
                       for offset, record in ((o, _record(raw)) for o, raw in lines)]
        except (ValueError, BadEvent):
            return False
        applied = duplicates = 0
        try:
            with self._sessions() as session, session.begin():
                batch = Batch.prefetch(session, [event_id for event_id, _ in records],
                                       [str(record.get("call_id")) for _, record in records])
                session.info[BATCH_KEY] = batch
                for event_id, record in records:
                    if apply_event(session, record, event_id, batch):
                        applied += 1
                    else:
                        duplicates += 1
                batch.write_events(session)
                _save_progress(session, file, end)
        except (ValueError, BadEvent):
            return False
        report.applied += applied
        report.duplicates += duplicates
        return True

    def _apply_line(self, session: Session, file: str, offset: int, raw: bytes,
                    report: ReplayReport) -> None:
        try:
            record = _record(raw)
            event_id = _event_id(file, offset, record)
            with session.begin_nested():  # a bad event undoes only itself
                applied = apply_event(session, record, event_id)
        except (ValueError, BadEvent) as exc:  # json.JSONDecodeError is a ValueError
            report.rejected += 1
            self._reject(file, offset, raw, str(exc))
            return
        if applied:
            report.applied += 1
        else:
            report.duplicates += 1

    def _reject(self, file: str, offset: int, raw: bytes, reason: str) -> None:
        log.error("spool %s at byte %d: event set aside (%s)", file, offset, reason[:200])
        line = json.dumps({"file": file, "offset": offset, "reason": reason,
                           "line": raw.decode("utf-8", "replace")}, ensure_ascii=False)
        fd = os.open(self.spool_dir / REJECTED_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                     0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def _record(raw: bytes) -> dict[str, Any]:
    record = json.loads(raw)
    if not isinstance(record, dict):
        raise BadEvent("not an object")
    return record


def _event_id(file: str, offset: int, record: dict[str, Any]) -> str:
    return str(record.get("id") or f"{file}:{offset}")


def _read_lines(spool: BinaryIO, limit: int) -> tuple[list[tuple[int, bytes]], int]:
    """Up to `limit` complete lines with their offsets, and the offset after them. A line
    still being appended (no newline yet) waits for the next round."""
    lines: list[tuple[int, bytes]] = []
    end = spool.tell()
    while len(lines) < limit:
        raw = spool.readline()
        if not raw.endswith(b"\n"):
            break
        if raw.strip():
            lines.append((end, raw))
        end += len(raw)
    return lines, end


def _save_progress(session: Session, file: str, offset: int) -> None:
    progress = session.scalar(select(SpoolProgress).where(SpoolProgress.file == file))
    if progress is None:
        session.add(SpoolProgress(file=file, offset=offset))
    else:
        progress.offset = offset
