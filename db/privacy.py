"""Caller numbers in records: masked for people, keyed-hashed for matching (repeat callers,
the daily attempt cap) — the full number is kept only where it must be dialled."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

VISIBLE_DIGITS = 4


def mask_number(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) <= VISIBLE_DIGITS:
        return "*" * len(digits)
    return "*" * (len(digits) - VISIBLE_DIGITS) + digits[-VISIBLE_DIGITS:]


def number_key(number: str, key: bytes) -> str:
    """The same number always gives the same key under one secret; the key does not give the
    number back (a plain hash of an 11-digit number would: there are only 10^11)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def load_number_secret(path: Path) -> bytes:
    """The runtime folder's secret for number keys: generated on first use, owner-only."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex() + "\n")
    return secret
