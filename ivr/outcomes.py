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
    skills: tuple[str, ...] = ()  # what the agent must know (service line, language)
    priority: int = 0  # higher is answered first (lost card, VIP)
    intent: str = ""  # what the caller wants, e.g. lost-card
    language: str = ""  # language the caller chose; drives agents and announcements
    path: tuple[str, ...] = ()  # node ids the caller went through
    customer_id: str = ""
    menu_version: str = ""  # which menu files served the call
    # Where a queue outcome goes in Asterisk (ivr.agents.plan_route): the queue for the
    # caller's language, who may answer at first, and the rule widening that over time.
    route_queue: str = ""
    max_penalty: int | None = None
    queue_rule: str = ""
    callback_node: str = ""  # offered to a caller who leaves the queue (keeps their place)
    leave_node: str = ""  # the menu a waiting caller goes back to with *

    @classmethod
    def failed(cls, reason: str) -> "Outcome":
        return cls(OutcomeKind.FAILED, reason=reason)
