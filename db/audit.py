"""The audit log: who played, downloaded, scored, held or purged which record, and when.

Three guards, each against what got round the one before:
- Append-only: database triggers refuse UPDATE and DELETE (migration 0004); on SQLite,
  recursive triggers are on, so `INSERT OR REPLACE` cannot delete a row past them.
- Sealed: each entry carries an HMAC of its content and of the entry before it, keyed by a
  secret kept in the runtime folder's secrets, not in the database: who can write the
  database but not read the key cannot re-chain changed rows.
- Anchored: the newest sealed entry (its id and seal) is written beside the key after each
  commit, so deleting the newest rows, which leaves a shorter chain that still holds, shows
  as entries missing after the last one.

A session writing the log carries its `AuditSeal` (`seal_session`); without one, writing
fails loudly rather than leaving an unsealed entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from db.models import AuditEntry

GENESIS = "0" * 64
KEY_FILE = "audit.key"
HEAD_FILE = "audit.head"
_SESSION_KEY = "audit_seal"


class AuditError(RuntimeError):
    """The audit log cannot be written as it must be (no seal)."""


@dataclass(frozen=True)
class AuditSeal:
    key: bytes
    head_file: Path

    @classmethod
    def load(cls, secrets_dir: Path) -> AuditSeal:
        """The runtime folder's seal: its key is made on first use, owner-only."""
        secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = secrets_dir / KEY_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made before, or by another process just now
            return cls(bytes.fromhex(path.read_text().strip()), secrets_dir / HEAD_FILE)
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex() + "\n")
        return cls(key, secrets_dir / HEAD_FILE)

    @classmethod
    def ephemeral(cls) -> AuditSeal:
        """A seal of its own for a console or test that has no runtime folder."""
        return cls.load(Path(tempfile.mkdtemp(prefix="hotline-audit-")))

    def seal(self, prev_hash: str, at: datetime, actor: str, action: str, target: str,
             detail: str | None) -> str:
        moment = at.astimezone(UTC).isoformat(timespec="microseconds")  # as stored
        text = "\x1f".join([prev_hash, moment, actor, action, target, detail or ""])
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def read_head(self) -> tuple[int, str] | None:
        try:
            entry_id, seal = self.head_file.read_text().split()
            return int(entry_id), seal
        except (OSError, ValueError):
            return None

    def advance_head(self, entry_id: int, seal: str) -> None:
        """Anchor the newest entry; never moves back (another process may be ahead)."""
        with open(self.head_file.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            head = self.read_head()
            if head is not None and head[0] >= entry_id:
                return
            partial = self.head_file.with_suffix(".part")
            partial.write_text(f"{entry_id} {seal}\n")
            partial.chmod(0o600)
            partial.replace(self.head_file)


def seal_session(session: Session, seal: AuditSeal) -> Session:
    """Let `session` write the audit log, sealed and anchored with `seal`."""
    session.info[_SESSION_KEY] = seal
    return session


def record(session: Session, at: datetime, actor: str, action: str, target: str,
           detail: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (the action and its audit line commit
    together or not at all); the anchor moves once the transaction commits."""
    seal = session.info.get(_SESSION_KEY)
    if not isinstance(seal, AuditSeal):
        raise AuditError("the audit log is written only by a session carrying its seal "
                         "(db.audit.seal_session)")
    last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)
                          .with_for_update())
    prev_hash = last.entry_hash if last is not None else GENESIS
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, detail=detail,
                       prev_hash=prev_hash,
                       entry_hash=seal.seal(prev_hash, at, actor, action, target, detail))
    session.add(entry)
    session.flush()
    newest = (entry.id, entry.entry_hash)
    event.listen(session, "after_commit",
                 lambda _session: seal.advance_head(*newest), once=True)
    return entry


def verify_chain(session: Session, seal: AuditSeal) -> Iterator[str]:
    """Problems with the log: an entry changed, re-sealed without the key, or removed; the
    newest entries removed (the anchor names an entry that is gone)."""
    prev_hash = GENESIS
    last_id = 0
    by_id: dict[int, str] = {}
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev_hash:
            yield f"entry {entry.id}: the entry before it was changed or removed"
        expected = seal.seal(entry.prev_hash, entry.at, entry.actor, entry.action,
                             entry.target, entry.detail)
        if not hmac.compare_digest(entry.entry_hash, expected):
            yield f"entry {entry.id}: its content was changed, or sealed without the key"
        prev_hash = entry.entry_hash
        last_id = entry.id
        by_id[entry.id] = entry.entry_hash
    head = seal.read_head()
    if head is None:
        return
    head_id, head_seal = head
    if head_id > last_id:
        yield (f"entries after {last_id} were removed: the log was anchored at entry "
               f"{head_id}")
    elif not hmac.compare_digest(by_id.get(head_id, ""), head_seal):
        yield f"entry {head_id}: it is not the entry the log was anchored at"
