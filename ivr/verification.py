"""Caller verification: how secrets are hashed and compared, the lock-out rule every verifier
applies, and an in-memory verifier over customer records (simulator, transcripts, tests).

Secrets are never stored or compared in clear: argon2id hashes (argon2-cffi), compared by the
library in constant time. A phone-banking PIN is 6 digits; the ID-and-card secret is the last
6 characters of the resident ID (X keyed as *) followed by the last 4 digits of a card.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.ports import VerificationStatus

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


class Method(StrEnum):
    PIN = "pin"
    ID_AND_CARD = "id_and_card"


# What the caller keys for each part of a method: (what, length).
PIN_LENGTH = 6
ID_TAIL_LENGTH = 6
CARD_TAIL_LENGTH = 4


def well_formed(method: str, secret: str) -> bool:
    """All the keys a method needs: 6 PIN digits; or the ID's last 6 (its last may be * or X)
    and the card's last 4."""
    if method == Method.PIN:
        return len(secret) == PIN_LENGTH and secret.isdigit()
    normal = normal_secret(method, secret)
    x_last = ID_TAIL_LENGTH - 1
    body = normal[:x_last] + normal[x_last:ID_TAIL_LENGTH].replace("X", "0") + \
        normal[ID_TAIL_LENGTH:]
    return len(normal) == ID_TAIL_LENGTH + CARD_TAIL_LENGTH and body.isdigit()


def normal_secret(method: str, secret: str) -> str:
    """The form a secret is hashed in: * (the keypad's X) as X."""
    return secret.replace("*", "X") if method == Method.ID_AND_CARD else secret


def hash_secret(method: str, secret: str) -> str:
    return _hasher.hash(normal_secret(method, secret))


def secret_matches(stored_hash: str, method: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, normal_secret(method, secret))
    except (VerificationError, InvalidHashError):
        return False


def after_attempt(status: VerificationStatus, matched: bool, now: datetime, *,
                  max_failures: int, lock_minutes: int) -> VerificationStatus:
    """The lock-out rule: a right secret clears the count; the `max_failures`-th wrong one in
    a row locks verification for `lock_minutes`. A lock that has run out starts afresh;
    attempts while locked change nothing."""
    if status.locked(now):
        return status  # refused unheard: a locked customer's secrets are not even compared
    if status.locked_until is not None:
        status = replace(status, failures=0, locked_until=None)
    if matched:
        return replace(status, failures=0, locked_until=None)
    failures = status.failures + 1
    locked_until = now + timedelta(minutes=lock_minutes) if failures >= max_failures else None
    return replace(status, failures=failures, locked_until=locked_until)


@dataclass
class InMemoryVerifier:
    """`ivr.ports.Verifier` over customers' secret hashes (customer id -> method -> hash)."""

    secrets: dict[str, dict[str, str]]
    standing: dict[str, VerificationStatus] = field(default_factory=dict)
    attempts: list[tuple[str, str, str, bool]] = field(default_factory=list)  # who, how, call

    def status(self, customer_id: str, now: datetime) -> VerificationStatus:
        enrolled = frozenset(self.secrets.get(customer_id, {}))
        known = self.standing.get(customer_id)
        return VerificationStatus(enrolled, known.failures if known else 0,
                                  known.locked_until if known else None)

    def attempt(self, customer_id: str, method: str, secret: str, *, call_id: str,
                now: datetime, max_failures: int, lock_minutes: int) -> VerificationStatus:
        stored = self.secrets.get(customer_id, {}).get(method)
        matched = stored is not None and secret_matches(stored, method, secret)
        status = after_attempt(self.status(customer_id, now), matched, now,
                               max_failures=max_failures, lock_minutes=lock_minutes)
        self.standing[customer_id] = status
        self.attempts.append((customer_id, method, call_id, matched))
        return status
