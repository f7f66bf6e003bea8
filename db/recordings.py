"""Compliance recordings in the database: registered when the call has ended, verified
against their sha256, kept for their category's retention period and purged after it unless
on legal hold.

The call-ended event adds a `pending` row with the raw file's path (db/records.py). The
records service then calls `Registrar.run_once` every few seconds: a raw file quiet for
QUIET_S is stored as a WAV (db/audio_store.py) and the row gets its size, duration, sha256,
agent, queue, category and retention date. Raw or WAV files that no row names (the call
ended while the records service was down) are adopted once quiet for ORPHAN_QUIET_S, so no
recording is ever left unregistered. A pending row whose file is gone becomes a `missing`
alarm; one without audio an `empty` alarm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import audit
from db.audio_store import (
    ENCRYPTED_SUFFIX,
    AudioCipher,
    StoredAudio,
    UnreadableAudio,
    contained,
    describe,
    file_digest,
    final_path,
    store_raw,
)
from db.models import KEPT_RECORDINGS, Call, Complaint, QueueLeg, Recording, RecordingStatus
from ivr.menu_schema import RecordingSettings

log = logging.getLogger(__name__)

QUIET_S = 2.0  # MixMonitor has closed a file untouched this long after the call ended
ORPHAN_QUIET_S = 600.0  # a file no call-ended event named: surely finished by then
ALARM_STATUSES = (RecordingStatus.MISSING, RecordingStatus.EMPTY,
                  RecordingStatus.UNREADABLE, RecordingStatus.OUTSIDE)
RETENTION_ACTOR = "retention"


@dataclass(frozen=True)
class RetentionPolicy:
    settings: RecordingSettings
    queue_categories: dict[str, str] = field(default_factory=dict)  # menu queue -> category

    def category(self, menu_queue: str | None, has_complaint: bool) -> str:
        if has_complaint:
            return self.settings.complaint_category
        if menu_queue and menu_queue in self.queue_categories:
            return self.queue_categories[menu_queue]
        return self.settings.default_category

    def retain_until(self, category: str, day: date) -> date:
        years = self.settings.retention_years.get(
            category, self.settings.retention_years[self.settings.default_category])
        try:
            return day.replace(year=day.year + years)
        except ValueError:  # 29 February
            return day.replace(year=day.year + years, day=28)


@dataclass
class RegistrarReport:
    stored: int = 0
    alarms: list[str] = field(default_factory=list)
    waiting: int = 0  # still being written
    errors: list[str] = field(default_factory=list)  # e.g. disk full: retried next round


class Registrar:
    def __init__(self, engine: Engine, recordings_dir: Path,
                 policy: Callable[[], RetentionPolicy], cipher: AudioCipher | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.recordings_dir = recordings_dir
        self.policy = policy
        self.cipher = cipher
        self._now = now or _utc_now

    def run_once(self, adopt: bool = True) -> RegistrarReport:
        """Register pending recordings; with `adopt`, first look through the whole folder
        for files no row names (a walk over years of files: not every round)."""
        report = RegistrarReport()
        if adopt:
            with Session(self.engine) as session, session.begin():
                self._adopt_orphans(session)
        with Session(self.engine) as session:
            pending = session.scalars(select(Recording.id).where(
                Recording.status == RecordingStatus.PENDING).order_by(Recording.id)).all()
        for recording_id in pending:
            with Session(self.engine) as session, session.begin():
                row = session.get(Recording, recording_id)
                if row is not None and row.status == RecordingStatus.PENDING:
                    self._register(session, row, report)
        return report

    def _register(self, session: Session, row: Recording, report: RegistrarReport) -> None:
        path = contained(self.recordings_dir, row.path)
        if path is None:
            row.status = RecordingStatus.OUTSIDE
            self._alarm(row, report, "its file is outside the recordings folder; not touched")
            return
        try:
            self._store(session, row, path, report)
        except UnreadableAudio as exc:
            row.status = RecordingStatus.UNREADABLE
            self._alarm(row, report, f"its file {path.name} is {exc}; kept as found")

    def _store(self, session: Session, row: Recording, path: Path,
               report: RegistrarReport) -> None:
        if path.suffix == ".raw" and path.exists():
            if time.time() - path.stat().st_mtime < QUIET_S:
                report.waiting += 1
                return
            try:
                stored = store_raw(path, self.cipher)
            except OSError as exc:
                # Disk full or unreadable: the raw audio stays; tried again next round.
                report.errors.append(f"recording of call {row.call_id}: {exc.strerror or exc}")
                log.error("recording of call %s not stored yet: %s", row.call_id, exc)
                return
        else:
            candidates = [path] if path.suffix != ".raw" else [
                final_path(path, self.cipher), final_path(path, None)]
            found = next((c for c in candidates if c.exists()), None)
            if found is None:
                row.status = RecordingStatus.MISSING
                self._alarm(row, report, "its file is missing")
                return
            stored = describe(found, self.cipher)
        self._fill(session, row, stored)
        if row.status == RecordingStatus.EMPTY:
            self._alarm(row, report, "it holds no audio")
        else:
            report.stored += 1

    def _fill(self, session: Session, row: Recording, stored: StoredAudio) -> None:
        call = session.scalar(select(Call).where(Call.call_id == row.call_id))
        leg = session.scalars(select(QueueLeg).where(
            QueueLeg.call_id == row.call_id, QueueLeg.agent.is_not(None))
            .order_by(QueueLeg.joined_at.desc())).first()
        has_complaint = session.scalar(select(Complaint.ticket).where(
            Complaint.call_id == row.call_id).limit(1)) is not None
        policy = self.policy()
        row.path = str(stored.path)
        row.size_bytes, row.duration_ms = stored.size_bytes, stored.duration_ms
        row.sha256, row.encrypted = stored.sha256, stored.encrypted
        row.status = (RecordingStatus.STORED if stored.duration_ms > 0
                      else RecordingStatus.EMPTY)
        row.agent = leg.agent if leg else None
        row.queue = leg.queue if leg else None
        row.category = policy.category(call.queue if call else None, has_complaint)
        ended = (call.ended_at if call and call.ended_at else self._now()).date()
        row.retain_until = policy.retain_until(row.category, ended)
        row.legal_hold = row.legal_hold or has_complaint  # a complaint's evidence stays
        row.registered_at = self._now()

    def _alarm(self, row: Recording, report: RegistrarReport, what: str) -> None:
        message = f"recording of call {row.call_id}: {what}"
        report.alarms.append(message)
        log.error("ALARM %s", message)

    def _adopt_orphans(self, session: Session) -> None:
        if not self.recordings_dir.is_dir():
            return
        known = set(session.scalars(select(Recording.path)).all())
        for path in sorted(self.recordings_dir.rglob("*")):
            if not _is_recording(path) or str(path) in known:
                continue
            if path.suffix == ".raw" and any(str(final_path(path, c)) in known
                                             for c in (self.cipher, None)):
                continue
            if time.time() - path.stat().st_mtime < ORPHAN_QUIET_S:
                continue
            call_id = _call_id_of(path)
            if session.scalar(select(Call.id).where(Call.call_id == call_id)) is None:
                session.add(Call(call_id=call_id))
                session.flush()
            session.add(Recording(call_id=call_id, path=str(path), status=RecordingStatus.PENDING,
                                  category="pending"))
            log.warning("adopting recording %s that no call-ended event named", path.name)


def _is_recording(path: Path) -> bool:
    name = path.name
    return path.is_file() and (name.endswith(".raw") or name.endswith(".wav")
                               or name.endswith(".wav" + ENCRYPTED_SUFFIX))


def _call_id_of(path: Path) -> str:
    return path.name.split(".wav")[0].removesuffix(".raw")


def _utc_now() -> datetime:
    return datetime.now(UTC)


# -- integrity ------------------------------------------------------------------------------

@dataclass(frozen=True)
class IntegrityProblem:
    recording_id: int
    call_id: str
    problem: str  # missing | truncated | changed


def verify(session: Session) -> list[IntegrityProblem]:
    """Every stored recording against what was registered: gone, shorter, or different."""
    problems = []
    for row in session.scalars(select(Recording).where(
            Recording.status.in_(KEPT_RECORDINGS)).order_by(Recording.id)):
        path = Path(row.path)
        if not path.exists():
            problems.append(IntegrityProblem(row.id, row.call_id, "missing"))
            continue
        try:
            size, sha256 = file_digest(path)
        except OSError:  # unreadable: no longer what was registered
            problems.append(IntegrityProblem(row.id, row.call_id, "truncated"))
            continue
        if row.size_bytes is not None and size < row.size_bytes:
            problems.append(IntegrityProblem(row.id, row.call_id, "truncated"))
        elif sha256 != row.sha256 or size != row.size_bytes:
            problems.append(IntegrityProblem(row.id, row.call_id, "changed"))
    return problems


# -- retention ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Purged:
    recording_id: int
    call_id: str
    category: str
    retain_until: date


def purge(session: Session, recordings_dir: Path, today: date, at: datetime, *,
          dry_run: bool = False) -> list[Purged]:
    """Delete recordings past their retention date and not on legal hold; every deletion is
    written to the audit log (in the same transaction as the row's change). A row naming a
    file outside the recordings folder is never followed there: it is marked `outside`."""
    purged = []
    rows = session.scalars(select(Recording).where(
        Recording.status.in_(KEPT_RECORDINGS), Recording.legal_hold.is_(False),
        Recording.retain_until.is_not(None), Recording.retain_until < today)
        .order_by(Recording.id)).all()
    for row in rows:
        if row.retain_until is None:  # excluded by the query; keeps the type exact
            continue
        path = contained(recordings_dir, row.path)
        if path is None:
            log.error("ALARM recording %d of call %s names a file outside the recordings "
                      "folder; not deleted", row.id, row.call_id)
            if not dry_run:
                row.status = RecordingStatus.OUTSIDE
            continue
        purged.append(Purged(row.id, row.call_id, row.category, row.retain_until))
        if dry_run:
            continue
        path.unlink(missing_ok=True)
        row.status, row.purged_at = RecordingStatus.PURGED, at
        audit.record(session, at, RETENTION_ACTOR, "purge", f"recording:{row.id}",
                     f"call {row.call_id}, {row.category}, kept until {row.retain_until}")
        log.info("purged recording %d of call %s (%s, kept until %s)", row.id, row.call_id,
                 row.category, row.retain_until)
    return purged


# -- completeness ---------------------------------------------------------------------------

def alarms(session: Session, recordings_dir: Path, now: datetime,
           settle_s: float = ORPHAN_QUIET_S) -> list[str]:
    """What `hotline recordings check` reports: recordings missing or empty, answered calls
    (ended more than `settle_s` ago) without a stored recording, and files no row names."""
    found = [f"recording {row.id} of call {row.call_id}: {row.status}"
             for row in session.scalars(select(Recording).where(
                 Recording.status.in_(ALARM_STATUSES)).order_by(Recording.id))]
    answered = select(QueueLeg.call_id).where(QueueLeg.agent.is_not(None))
    settled = now.timestamp() - settle_s
    for call in session.scalars(select(Call).where(
            Call.call_id.in_(answered), Call.ended_at.is_not(None)).order_by(Call.id)):
        assert call.ended_at is not None
        if call.ended_at.timestamp() > settled:
            continue
        has = session.scalar(select(Recording.id).where(
            Recording.call_id == call.call_id,
            Recording.status.in_((RecordingStatus.STORED, RecordingStatus.PURGED))).limit(1))
        if has is None:
            found.append(f"call {call.call_id} was answered by an agent but has no recording")
    known = set(session.scalars(select(Recording.path)).all())
    if recordings_dir.is_dir():
        for path in sorted(recordings_dir.rglob("*")):
            if _is_recording(path) and path.suffix != ".raw" and str(path) not in known:
                found.append(f"file {path.relative_to(recordings_dir)} is not registered")
    return found


def hold(session: Session, recording_id: int, on: bool, actor: str, at: datetime,
         reason: str) -> Recording:
    row = session.get(Recording, recording_id)
    if row is None:
        raise LookupError(f"no recording {recording_id}")
    row.legal_hold = on
    audit.record(session, at, actor, "hold" if on else "release", f"recording:{row.id}",
                 reason)
    return row
