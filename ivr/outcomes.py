"""What an IVR session decided. The AGI layer writes it to `IVR_*` channel variables and the
dialplan acts on it; the IVR never waits for a queue itself.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class OutcomeKind(StrEnum):
    """Matches the extensions of the dialplan's `[hotline-outcome]` context."""

    QUEUE = "queue"  # hand the caller to agents
    HANGUP = "hangup"  # the caller's business is done; say goodbye
    FAILED = "failed"  # something broke; the dialplan sends the caller to the fallback queue


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    queue: str | None = None
    reason: str = ""
    # Non-sensitive facts for the agent's screen pop and the call record (e.g. the key pressed
    # at a top-level menu). Card numbers, IDs and PINs never go here.
    facts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def failed(cls, reason: str) -> "Outcome":
        return cls(OutcomeKind.FAILED, reason=reason)
