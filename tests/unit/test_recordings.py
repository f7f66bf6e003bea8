"""Compliance recordings after the call: stored as WAV from MixMonitor's raw file, registered
with agent, queue, category and retention; verified against sha256; purged only when
expired and not on hold; the audit log is append-only and chained."""

from __future__ import annotations

import os
import time
import wave
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from db import audit
from db import recordings as store
from db.audio_store import AudioCipher, read_audio, store_raw
from db.audit import seal_session
from db.database import make_engine
from db.models import AuditEntry, Call, Complaint, QueueLeg, Recording
from db.records import apply_event
from ivr.menu_loader import MenuSet
from services.records import retention_policy

ENDED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def seal(tmp_path: Path) -> audit.AuditSeal:
    """The audit log's seal for one test: its own key and anchor."""
    return audit.AuditSeal.load(tmp_path / "audit-secrets")
NOW = datetime(2026, 11, 23, 2, 5, tzinfo=UTC)


def write_raw(path: Path, seconds: float, *, quiet: bool = True) -> Path:
    """Interleaved stereo s16le at 8 kHz, as MixMonitor's D option writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = int(seconds * 8000)
    path.write_bytes(b"\x10\x00\x20\x00" * frames + b"\x01")  # a cut-off last sample
    if quiet:
        old = time.time() - 60
        os.utime(path, (old, old))
    return path


def end_call(session: Session, call_id: str, raw: Path, *, agent: str | None = "2001",
             queue: str = "collections", complaint: bool = False) -> None:
    apply_event(session, {"call_id": call_id, "kind": "call-started",
                          "at": "2026-11-23T01:55:00+00:00", "data": {}}, f"{call_id}-s")
    if agent:
        session.add(QueueLeg(call_id=call_id, queue=f"{queue}-cmn", joined_at=ENDED,
                             result="answered", agent=agent))
    if complaint:
        session.add(Complaint(ticket=f"T{call_id}", call_id=call_id, category="fees",
                              opened_at=ENDED, reply_due=ENDED, resolution_due=ENDED))
    session.flush()
    call = session.scalar(select(Call).where(Call.call_id == call_id))
    assert call is not None
    call.queue = queue
    apply_event(session, {"call_id": call_id, "kind": "call-ended",
                          "at": ENDED.isoformat(), "data": {"recording": str(raw)}},
                f"{call_id}-e")


def registrar(engine: Engine, folder: Path, menus: MenuSet,
              cipher: AudioCipher | None = None) -> store.Registrar:
    return store.Registrar(engine, folder, lambda: retention_policy(menus), cipher,
                           now=lambda: NOW)


def test_an_ended_call_s_recording_is_stored_and_registered(engine: Engine, tmp_path: Path,
                                                            menus: MenuSet) -> None:
    raw = write_raw(tmp_path / "2026/11/23/c1.raw", 3.0)
    with Session(engine) as session, session.begin():
        end_call(session, "c1", raw)
    report = registrar(engine, tmp_path, menus).run_once()
    assert report.stored == 1 and not report.alarms
    with Session(engine) as session:
        row = session.scalars(select(Recording)).one()
        assert row.status == "stored" and not raw.exists()
        assert row.path == str(tmp_path / "2026/11/23/c1.wav")
        assert row.duration_ms == 3000 and row.size_bytes == Path(row.path).stat().st_size
        assert (row.agent, row.queue, row.category) == ("2001", "collections-cmn",
                                                        "collections")
        assert row.retain_until == date(2033, 11, 23)  # collections: 7 years
        assert not row.legal_hold
    with wave.open(str(tmp_path / "2026/11/23/c1.wav")) as audio:
        assert audio.getnchannels() == 2 and audio.getnframes() == 24000


def test_a_file_still_being_written_waits(engine: Engine, tmp_path: Path,
                                          menus: MenuSet) -> None:
    raw = write_raw(tmp_path / "c2.raw", 1.0, quiet=False)
    with Session(engine) as session, session.begin():
        end_call(session, "c2", raw)
    report = registrar(engine, tmp_path, menus).run_once()
    assert report.waiting == 1 and report.stored == 0 and raw.exists()


def test_a_complaint_call_is_kept_longest_and_held(engine: Engine, tmp_path: Path,
                                                   menus: MenuSet) -> None:
    raw = write_raw(tmp_path / "c3.raw", 1.0)
    with Session(engine) as session, session.begin():
        end_call(session, "c3", raw, complaint=True)
    registrar(engine, tmp_path, menus).run_once()
    with Session(engine) as session:
        row = session.scalars(select(Recording)).one()
        assert row.category == "complaint" and row.legal_hold
        assert row.retain_until == date(2036, 11, 23)


def test_missing_and_empty_recordings_raise_alarms(engine: Engine, tmp_path: Path,
                                                   menus: MenuSet) -> None:
    empty = tmp_path / "c5.raw"
    empty.write_bytes(b"")
    os.utime(empty, (time.time() - 60,) * 2)
    with Session(engine) as session, session.begin():
        end_call(session, "c4", tmp_path / "c4.raw")  # never written (disk full, crash)
        end_call(session, "c5", empty)
    report = registrar(engine, tmp_path, menus).run_once()
    assert len(report.alarms) == 2
    with Session(engine) as session:
        statuses = dict(session.execute(select(Recording.call_id, Recording.status)).all())
        assert statuses == {"c4": "missing", "c5": "empty"}
        found = store.alarms(session, tmp_path, datetime(2026, 11, 24, tzinfo=UTC))
    assert any("c4" in alarm and "missing" in alarm for alarm in found)
    assert any("c5" in alarm for alarm in found)


def test_an_answered_call_without_recording_and_a_stray_file_are_alarms(
        engine: Engine, tmp_path: Path) -> None:
    stray = tmp_path / "2026/01/01/old.wav"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"RIFF")
    with Session(engine) as session, session.begin():
        end_call(session, "c6", tmp_path / "unused.raw")
        session.execute(text("DELETE FROM recordings"))
    with Session(engine) as session:
        found = store.alarms(session, tmp_path, datetime(2026, 11, 24, tzinfo=UTC))
    assert "call c6 was answered by an agent but has no recording" in found
    assert "file 2026/01/01/old.wav is not registered" in found


def test_a_recording_no_event_named_is_adopted(engine: Engine, tmp_path: Path,
                                               menus: MenuSet) -> None:
    """The call ended while the records service was down: the file is still registered."""
    old = write_raw(tmp_path / "2026/11/22/lost-event.raw", 2.0)
    os.utime(old, (time.time() - 3600,) * 2)
    reg = registrar(engine, tmp_path, menus)
    reg.run_once()  # adopts the file as pending
    reg.run_once()
    with Session(engine) as session:
        row = session.scalars(select(Recording)).one()
        assert (row.call_id, row.status, row.duration_ms) == ("lost-event", "stored", 2000)


def test_a_full_disk_keeps_the_raw_audio_and_retries(engine: Engine, tmp_path: Path,
                                                     menus: MenuSet,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    raw = write_raw(tmp_path / "c7.raw", 1.0)
    with Session(engine) as session, session.begin():
        end_call(session, "c7", raw)

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("db.audio_store.os.replace", disk_full)
    report = registrar(engine, tmp_path, menus).run_once()
    assert report.errors and "No space left" in report.errors[0]
    assert raw.exists() and not list(tmp_path.glob("c7.wav*"))
    monkeypatch.undo()
    assert registrar(engine, tmp_path, menus).run_once().stored == 1


def test_verify_finds_changed_truncated_and_missing_files(engine: Engine, tmp_path: Path,
                                                          menus: MenuSet) -> None:
    for name in ("a", "b", "c", "d"):
        raw = write_raw(tmp_path / f"{name}.raw", 1.0)
        with Session(engine) as session, session.begin():
            end_call(session, name, raw)
    registrar(engine, tmp_path, menus).run_once()
    with Session(engine) as session:
        assert store.verify(session) == []
    changed = bytearray((tmp_path / "a.wav").read_bytes())
    changed[100] ^= 0xFF
    (tmp_path / "a.wav").write_bytes(bytes(changed))
    (tmp_path / "b.wav").write_bytes((tmp_path / "b.wav").read_bytes()[:-10])
    (tmp_path / "c.wav").unlink()
    with Session(engine) as session:
        problems = {p.call_id: p.problem for p in store.verify(session)}
    assert problems == {"a": "changed", "b": "truncated", "c": "missing"}


def test_purge_deletes_only_expired_recordings_not_on_hold(engine: Engine, tmp_path: Path,
                                                           menus: MenuSet,
                                                           seal: audit.AuditSeal) -> None:
    for name in ("expired", "held", "current"):
        raw = write_raw(tmp_path / f"{name}.raw", 1.0)
        with Session(engine) as session, session.begin():
            end_call(session, name, raw, queue="general")
    registrar(engine, tmp_path, menus).run_once()
    with Session(engine) as session, session.begin():
        rows = {r.call_id: r for r in session.scalars(select(Recording))}
        rows["expired"].retain_until = rows["held"].retain_until = date(2026, 1, 1)
        seal_session(session, seal)
        store.hold(session, rows["held"].id, True, "sup1", NOW, "court order 12")
    with Session(engine) as session, session.begin():
        seal_session(session, seal)
        purged = store.purge(session, tmp_path, date(2026, 11, 23), NOW)
    assert [p.call_id for p in purged] == ["expired"]
    assert not (tmp_path / "expired.wav").exists()
    assert (tmp_path / "held.wav").exists() and (tmp_path / "current.wav").exists()
    with Session(engine) as session:
        log = [(e.actor, e.action) for e in session.scalars(select(AuditEntry))]
        assert log == [("sup1", "hold"), ("retention", "purge")]
        assert session.scalars(select(Recording).where(
            Recording.call_id == "expired")).one().status == "purged"
        assert list(audit.verify_chain(session, seal)) == []


def test_the_audit_log_cannot_be_changed_and_tampering_shows(engine: Engine,
                                                             seal: audit.AuditSeal) -> None:
    with Session(engine) as session, session.begin():
        seal_session(session, seal)
        audit.record(session, NOW, "sup1", "play", "recording:1")
        audit.record(session, NOW, "qa1", "score", "recording:1", "80%")
    with Session(engine) as session, session.begin(), pytest.raises(DatabaseError):
        session.execute(text("UPDATE audit_log SET actor = 'nobody'"))
    with Session(engine) as session, session.begin(), pytest.raises(DatabaseError):
        session.execute(text("DELETE FROM audit_log"))
    with engine.begin() as connection:  # someone with the database file drops the trigger
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE id = 1"))
    with Session(engine) as session:
        assert list(audit.verify_chain(session, seal)) == [
            "entry 1: its content was changed, or sealed without the key"]


def sealed_log(engine: Engine, seal: audit.AuditSeal, entries: int) -> None:
    for n in range(entries):
        with Session(engine) as session, session.begin():
            seal_session(session, seal)
            audit.record(session, NOW, "sup1", "play", f"recording:{n}")


def test_insert_or_replace_cannot_get_round_the_triggers(engine: Engine,
                                                          seal: audit.AuditSeal) -> None:
    """Attack: on SQLite, INSERT OR REPLACE passed the append-only triggers."""
    sealed_log(engine, seal, 2)
    with engine.begin() as connection, pytest.raises(DatabaseError, match="append-only"):
        connection.execute(text(
            "INSERT OR REPLACE INTO audit_log (id, at, actor, action, target, detail, "
            "prev_hash, entry_hash) SELECT id, at, 'nobody', action, target, detail, "
            "prev_hash, entry_hash || 'x' FROM audit_log WHERE id = 1"))


def test_re_chaining_changed_rows_without_the_key_shows(engine: Engine,
                                                        tmp_path: Path) -> None:
    """Attack: the chain had no key: whoever could write the database changed a row and
    recomputed every hash after it, and `hotline audit verify` said OK."""
    seal = audit.AuditSeal.load(tmp_path / "secrets")
    sealed_log(engine, seal, 3)
    forger = audit.AuditSeal(b"not the key", tmp_path / "elsewhere.head")
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
    with Session(engine) as session, session.begin():
        prev = audit.GENESIS
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
            entry.actor = "nobody"
            entry.prev_hash = prev
            entry.entry_hash = forger.seal(prev, entry.at, entry.actor, entry.action,
                                           entry.target, entry.detail)
            prev = entry.entry_hash
    with Session(engine) as session:
        problems = list(audit.verify_chain(session, seal))
    assert "entry 1: its content was changed, or sealed without the key" in problems
    assert any("anchored at" in p for p in problems)


def test_deleting_the_newest_entries_shows(engine: Engine, tmp_path: Path) -> None:
    """Attack: dropping the triggers and deleting the newest rows left a shorter chain that
    `hotline audit verify` called OK."""
    seal = audit.AuditSeal.load(tmp_path / "secrets")
    sealed_log(engine, seal, 4)
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        connection.execute(text("DELETE FROM audit_log WHERE id > 2"))
    with Session(engine) as session:
        assert list(audit.verify_chain(session, seal)) == [
            "entries after 2 were removed: the log was anchored at entry 4"]


def test_an_unsealed_session_cannot_write_the_log(engine: Engine) -> None:
    with Session(engine) as session, session.begin(), pytest.raises(audit.AuditError):
        audit.record(session, NOW, "sup1", "play", "recording:1")


def test_encrypted_recordings_hold_no_plain_audio(tmp_path: Path) -> None:
    cipher = AudioCipher.load_or_create(tmp_path / "secrets" / "recordings-key")
    assert (tmp_path / "secrets" / "recordings-key").stat().st_mode & 0o077 == 0
    raw = write_raw(tmp_path / "e.raw", 20.0)  # several chunks
    stored = store_raw(raw, cipher)
    assert stored.encrypted and stored.path.name == "e.wav.enc"
    data = stored.path.read_bytes()
    assert b"RIFF" not in data and b"\x10\x00\x20\x00" * 4 not in data
    audio = read_audio(stored.path, cipher)
    assert audio.startswith(b"RIFF") and stored.duration_ms == 20000
    tampered = bytearray(data)
    tampered[5000] ^= 1
    stored.path.write_bytes(bytes(tampered))
    with pytest.raises(InvalidTag):
        read_audio(stored.path, cipher)


def test_a_truncated_wav_is_an_alarm_not_a_crash(engine: Engine, tmp_path: Path,
                                                 menus: MenuSet) -> None:
    """Attack: a 4-byte .wav in the recordings folder made registration raise EOFError and
    the records service die in a restart loop."""
    folder = tmp_path / "recordings"
    junk = folder / "2026/11/23/c9.wav"
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"RIFF")
    old = time.time() - 3600
    os.utime(junk, (old, old))
    good = write_raw(folder / "2026/11/23/c1.raw", 1.0)
    with Session(engine) as session, session.begin():
        end_call(session, "c1", good)
        end_call(session, "c9", junk)
    report = registrar(engine, folder, menus).run_once()
    assert report.stored == 1
    assert any("c9" in alarm and "not a readable WAV" in alarm for alarm in report.alarms)
    with Session(engine) as session:
        rows = {r.call_id: r for r in session.scalars(select(Recording))}
    assert rows["c9"].status == "unreadable" and junk.read_bytes() == b"RIFF"  # kept
    assert rows["c1"].status == "stored"
    with Session(engine) as session:
        assert any("unreadable" in a for a in store.alarms(session, folder, NOW))


def test_rows_naming_files_outside_the_recordings_folder_are_never_followed(
        engine: Engine, tmp_path: Path, menus: MenuSet) -> None:
    """Attack: a row pointing outside the recordings folder made `register` convert and
    delete, and `purge` delete, a file there."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    outside_raw = write_raw(tmp_path / "elsewhere" / "c1.raw", 1.0)
    outside_wav = tmp_path / "elsewhere" / "precious.wav"
    with wave.open(str(outside_wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 8000)
    escaping = folder / ".." / "elsewhere" / "precious.wav"
    with Session(engine) as session, session.begin():
        end_call(session, "c1", outside_raw)
        end_call(session, "c2", escaping)
    report = registrar(engine, folder, menus).run_once()
    assert report.stored == 0 and len([a for a in report.alarms if "outside" in a]) == 2
    assert outside_raw.exists() and outside_wav.exists()
    with Session(engine) as session, session.begin():
        for row in session.scalars(select(Recording)):
            row.status, row.retain_until = "stored", date(2026, 1, 1)
    with Session(engine) as session, session.begin():
        assert store.purge(session, folder, date(2026, 11, 23), NOW) == []
    assert outside_raw.exists() and outside_wav.exists()
    with Session(engine) as session:
        assert {r.status for r in session.scalars(select(Recording))} == {"outside"}


def test_stored_recordings_and_the_database_are_private(engine: Engine, tmp_path: Path,
                                                         menus: MenuSet,
                                                         records_url: str) -> None:
    """Attack: the database file and stored WAVs were 0644: hashes, tokens, callers' records
    and voices readable by any local user."""
    old = os.umask(0o022)  # a permissive umask, as a shell may give
    try:
        raw = write_raw(tmp_path / "2026/11/23/c1.raw", 1.0)
        with Session(engine) as session, session.begin():
            end_call(session, "c1", raw)
        registrar(engine, tmp_path, menus).run_once()
        fresh = tmp_path / "fresh" / "records.db"
        make_engine(f"sqlite:///{fresh}").dispose()
    finally:
        os.umask(old)
    stored = tmp_path / "2026/11/23/c1.wav"
    assert stored.stat().st_mode & 0o077 == 0
    assert fresh.stat().st_mode & 0o077 == 0
    database = Path(records_url.removeprefix("sqlite:///"))
    assert database.stat().st_mode & 0o077 == 0
