"""What an IVR session decided: one of three typed outcomes, built once, complete, in `ivr/`.
The AGI layer writes it to `IVR_*` channel variables (agi.dispatch.outcome_variables, one
mapping per type) and the dialplan acts on it; the IVR never waits for a queue itself.

- `QueueCall`: hand the caller to agents, in the Asterisk queue its `route` names.
- `HangUp`: the caller's business is done; the menus said goodbye.
- `Failure`: something broke; the dialplan sends the caller to the fallback queue.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

# The queue of people who can take any call: where every failure lands. Named in
# asterisk-conf/queues.conf and the dialplan's [hotline-human] (a test checks both).
FALLBACK_QUEUE = "fallback"


class OutcomeKind(StrEnum):
    """Matches the extensions of the dialplan's `[hotline-outcome]` context."""

    QUEUE = "queue"
    HANGUP = "hangup"
    FAILED = "failed"


@dataclass(frozen=True)
class Verification:
    """Whether the caller proved who they are, for the agent and the call record."""

    method: str = ""  # pin | id_and_card; "" = not verified
    failures: int = 0  # wrong secrets keyed in this call
    locked: bool = False  # verification is locked for the customer (too many failures)

    @property
    def verified(self) -> bool:
        return bool(self.method)

    def label(self) -> str:
        """What the agent's screen says: the method, `locked`, or `no`."""
        return self.method or ("locked" if self.locked else "no")


@dataclass(frozen=True)
class CallSummary:
    """What the IVR learned, for the agent's screen and the call record. Holds nothing
    sensitive: no collected digits, no callback number."""

    reason: str = ""  # short machine-readable why, e.g. caller-asked-agent
    intent: str = ""  # what the caller wants, e.g. lost-card
    language: str = ""  # language or dialect the caller chose
    path: tuple[str, ...] = ()  # node ids the caller went through
    customer_id: str = ""  # internal id found by a lookup
    menu_version: str = ""  # which menu files served the call
    choice: str = ""  # the first menu key the caller chose
    verification: Verification = Verification()


@dataclass(frozen=True)
class BookedCallback:
    """A callback the caller booked in this session. The number is personal data: it goes to
    the dialplan (which dials it) and nowhere else."""

    number: str = field(repr=False)
    dial_now: bool  # outside the quiet hours: the placeholder may wait for an agent at once


@dataclass(frozen=True)
class QueueRoute:
    """Where a queue call goes in Asterisk (ivr.agents.SkillRouter decides it)."""

    queue: str  # the Asterisk queue: <menu queue>-<language>, or the fallback queue
    priority: int = 0  # QUEUE_PRIO: higher is answered first (lost card, VIP)
    max_penalty: int | None = None  # QUEUE_MAX_PENALTY at first: best-fit agents only
    rule: str = ""  # queue rule widening the pool while the caller waits ("": wide already)


@dataclass(frozen=True)
class _Decided:
    summary: CallSummary = CallSummary()
    callback: BookedCallback | None = None

    kind: ClassVar[OutcomeKind]

    # The summary's fields, read as the outcome's own (reports, transcripts, tests).
    @property
    def reason(self) -> str:
        return self.summary.reason

    @property
    def intent(self) -> str:
        return self.summary.intent

    @property
    def language(self) -> str:
        return self.summary.language

    @property
    def path(self) -> tuple[str, ...]:
        return self.summary.path

    @property
    def customer_id(self) -> str:
        return self.summary.customer_id

    @property
    def menu_version(self) -> str:
        return self.summary.menu_version

    @property
    def choice(self) -> str:
        return self.summary.choice

    @property
    def verification(self) -> Verification:
        return self.summary.verification


@dataclass(frozen=True, kw_only=True)
class QueueCall(_Decided):
    service: str  # the menu queue: what the caller needs (cards-priority)
    route: QueueRoute
    skills: tuple[str, ...] = ()  # what the agent must know (service line, language)
    callback_node: str = ""  # offered to a caller who leaves the queue (keeps their place)
    leave_node: str = ""  # the menu a waiting caller goes back to with *
    max_wait_s: int = 0  # then no agent took the call: no_agent_node; 0: no limit
    no_agent_node: str = ""  # the line's menu for a caller no agent took in time

    kind: ClassVar[OutcomeKind] = OutcomeKind.QUEUE

    @property
    def queue(self) -> str:
        return self.route.queue

    @property
    def priority(self) -> int:
        return self.route.priority


@dataclass(frozen=True, kw_only=True)
class HangUp(_Decided):
    kind: ClassVar[OutcomeKind] = OutcomeKind.HANGUP


@dataclass(frozen=True, kw_only=True)
class Failure(_Decided):
    kind: ClassVar[OutcomeKind] = OutcomeKind.FAILED

    @classmethod
    def because(cls, reason: str) -> Failure:
        return cls(summary=CallSummary(reason=reason))


Outcome = QueueCall | HangUp | Failure
