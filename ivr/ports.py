"""Ports: the small interfaces through which the pure IVR talks to telephony and friends.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy; adapters in `agi/`, `speech/`, `db/`
implement these.
"""

from typing import Protocol

# Keys a caller can press; used as the escape set while a prompt plays so keys stay live.
ALL_KEYS = "0123456789*#"


class Channel(Protocol):
    """One caller's channel. Every method raises `ivr.errors.CallerHungUp` after a hang-up and
    `ivr.errors.ChannelError` when the channel cannot be trusted any more."""

    @property
    def call_id(self) -> str:
        """Asterisk's unique id of the call; safe to log and to name files by."""
        ...

    def play(self, sound: str, escape_keys: str = ALL_KEYS) -> str | None:
        """Play a sound (path without extension). Returns the key that interrupted it."""
        ...

    def wait_for_key(self, timeout_ms: int) -> str | None:
        """Wait for one key press; None when none came within the timeout."""
        ...

    def get_variable(self, name: str) -> str | None:
        """Read a channel variable; None when it is not set."""
        ...

    def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable (the way AGI hands results back to the dialplan)."""
        ...
