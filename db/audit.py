"""The audit log: who played, downloaded, scored, held or purged which record, and when.

Append-only (database triggers refuse UPDATE and DELETE, see migration 0004) and chained:
each entry's hash covers the previous entry's hash, so `verify_chain` finds a line that
was changed or removed by someone who got round the triggers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry

GENESIS = "0" * 64


def _digest(prev_hash: str, at: datetime, actor: str, action: str, target: str,
            detail: str | None) -> str:
    moment = at.astimezone(UTC).isoformat(timespec="microseconds")  # as stored
    text = "\x1f".join([prev_hash, moment, actor, action,
                        target, detail or ""])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(session: Session, at: datetime, actor: str, action: str, target: str,
           detail: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (the action and its audit line commit
    together or not at all)."""
    last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)
                          .with_for_update())
    prev_hash = last.entry_hash if last is not None else GENESIS
    entry = AuditEntry(at=at, actor=actor, action=action, target=target, detail=detail,
                       prev_hash=prev_hash,
                       entry_hash=_digest(prev_hash, at, actor, action, target, detail))
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> Iterator[str]:
    """Problems with the chain: an entry whose content or predecessor does not match."""
    prev_hash = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev_hash:
            yield f"entry {entry.id}: the entry before it was changed or removed"
        expected = _digest(entry.prev_hash, entry.at, entry.actor, entry.action, entry.target,
                           entry.detail)
        if entry.entry_hash != expected:
            yield f"entry {entry.id}: its content was changed"
        prev_hash = entry.entry_hash
