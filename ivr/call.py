"""One call while the menus serve it: the ports it talks through, its state, the typed steps
it leaves behind, and the one place its outcome is built.

Steps are values (`Step`), rendered to text only when the call's summary is stored; the
logic never reads them back (the caller's first choice is kept as it happens).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from ivr import menu_schema as schema
from ivr.menu_loader import MenuSet
from ivr.outcomes import BookedCallback, CallSummary, Failure, HangUp, QueueCall, Verification
from ivr.ports import (
    AccountServices,
    CallRecording,
    Channel,
    Clock,
    Customer,
    Directory,
    EventSink,
    Heard,
    Listener,
    MessageRecorder,
    Prompter,
    QueueInfo,
    Router,
    TicketIssuer,
    Verifier,
)

TICKET_SLOT = "ticket"  # a filed complaint's ticket number, for a say node to read back


@dataclass(frozen=True)
class Ports:
    channel: Channel
    prompter: Prompter
    directory: Directory
    recorder: MessageRecorder
    events: EventSink
    clock: Clock
    router: Router
    listener: Listener | None = None  # None: DTMF only
    queue_info: QueueInfo | None = None  # None: no wait announcements or callback offers
    tickets: TicketIssuer | None = None  # None: complaints go to an agent
    recording: CallRecording | None = None  # None: the call is not recorded (simulator)
    verifier: Verifier | None = None  # None: nobody can be verified (verify nodes fail)
    accounts: AccountServices | None = None  # None: self-service actions go to an agent


class StepKind(StrEnum):
    """What happened at a node; the value is how the call's summary words it."""

    KEY = "key {}"
    SPOKE = "spoke"
    NO_INPUT = "no input"
    NO_MATCH = "no match"
    UNSURE = "unsure"
    ASKED_FOR_AGENT = "asked for an agent"
    BACK = "back"
    KEYS_ONLY = "keys only"
    SPEECH_UNAVAILABLE = "speech unavailable, keys only"
    RECORDING_STARTED = "recording started"
    RECORDING_PAUSED = "recording paused"
    RECORDING_RESUMED = "recording resumed"
    DIGITS = "{} digits"  # the count only: the digits may be a card or ID number
    INVALID_ENTRY = "invalid entry"
    LANGUAGE_CHOSEN = "{}"
    LANGUAGE_DETECTED = "detected {}"
    LANGUAGE_DEFAULT = "default {}"
    LANGUAGE_PREFERRED = "preferred {}"
    LANGUAGE_CHANGE_ASKED = "preferred {}, caller asked to change"
    RULE = "rule {}"
    OTHERWISE = "otherwise"
    NOTHING_TO_LOOK_UP = "nothing to look up"
    DIRECTORY_UNAVAILABLE = "directory unavailable"
    NOT_FOUND = "not found"
    FOUND = "found"
    QUEUE_WAIT = "wait {}"
    RECORDED = "recorded {} ms"
    NOTHING_RECORDED = "nothing recorded"
    NOT_TRANSCRIBED = "not transcribed"
    CALLBACK_BOOKED = "callback booked"
    NO_NUMBER = "no number"
    FILED = "filed"
    NOT_FILED = "not filed"
    VALUE_UNKNOWN = "{} unknown"
    CALLER_HUNG_UP = "caller hung up"
    VERIFIED = "verified by {}"
    WRONG_SECRET = "wrong secret ({} in a row)"
    VERIFY_LOCKED = "verification locked"
    NOT_ENROLLED = "no secret on file"
    NOT_IDENTIFIED = "not identified"
    VERIFIER_UNAVAILABLE = "verifier unavailable"
    NOT_VERIFIED = "not verified: account details withheld"
    CARDS_FROZEN = "{} card(s) frozen"
    SERVICE_UNAVAILABLE = "self-service unavailable"
    PROMISED = "promise to pay stored"
    TICKET_STATUS = "ticket {}"
    TICKET_NOT_FOUND = "no such ticket"


@dataclass(frozen=True)
class Step:
    node: str  # "" for steps of the call rather than of a node
    kind: StepKind
    detail: str = ""

    def text(self) -> str:
        what = self.kind.value.format(self.detail)
        return f"{self.node}: {what}" if self.node else what


@dataclass(frozen=True)
class Waited:
    """A caller back from a queue: the menu queue they waited in and what for."""

    queue: str
    intent: str = ""


@dataclass
class CallState:
    language: str
    caller_number: str | None
    customer: Customer | None = None
    intent: str = ""
    reason: str = ""
    slots: dict[str, str] = field(default_factory=dict)
    # The caller's path, for the agent and the call record. Never holds collected digits.
    path: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    menu_stack: list[str] = field(default_factory=list)
    pending_key: str | None = None  # type-ahead: pressed during an announcement
    # What a caller said at the language menu, for the next menu: 我要挂失 names a language
    # (by its model) and a service at once.
    spoken_ahead: Heard | None = None
    keys_only: bool = False  # speech failed for this call: never wait on it again
    message: str | None = None  # the last recorded message's reference (complaints)
    choice: str = ""  # the first menu key the caller chose
    callback: BookedCallback | None = None
    verification: Verification = Verification()
    waited_for: str = ""  # the menu queue a caller back from waiting was in (IVR_SERVICE)


@dataclass
class Call:
    """What a node handler works with: the menus, the ports and the call's state."""

    menus: MenuSet
    ports: Ports
    state: CallState
    node_id: str = ""  # the node being served

    @property
    def line(self) -> schema.LineSettings:
        return self.menus.line

    @property
    def call_id(self) -> str:
        return self.ports.channel.call_id

    @property
    def language(self) -> str:
        """The caller's language or dialect: routing, speech and the call record use it."""
        return self.state.language

    @property
    def prompt_language(self) -> str:
        """Whose prompts the caller hears (a dialect's callers hear another language's)."""
        return self.line.prompt_language(self.state.language)

    def note(self, kind: StepKind, detail: object = "", *, of_call: bool = False) -> None:
        self.state.steps.append(Step("" if of_call else self.node_id, kind, str(detail)))

    def emit(self, kind: str, data: dict[str, object]) -> None:
        self.ports.events.emit(self.call_id, kind, data)

    @property
    def verified_customer(self) -> str | None:
        """The customer id, once the caller proved to be that customer."""
        customer = self.state.customer
        if customer is None or not self.state.verification.verified:
            return None
        return customer.customer_id

    def local_now(self) -> datetime:
        return self.ports.clock.now().astimezone(ZoneInfo(self.line.timezone))

    # -- the outcome: built here and only here ------------------------------------------

    def queue_call(self, service: str, *, priority: int, intent: str, reason: str,
                   skills: tuple[str, ...] = (), callback_node: str = "",
                   leave_node: str = "", max_wait_s: int = 0) -> QueueCall:
        priority = self._vip_priority(priority)
        return QueueCall(summary=self._summary(reason, intent), callback=self.state.callback,
                         service=service, skills=skills,
                         route=self.ports.router.route(service, self.language, priority),
                         callback_node=callback_node, leave_node=leave_node,
                         max_wait_s=max_wait_s,
                         no_agent_node=(self.menus.line.no_agent or "") if max_wait_s else "")

    def hang_up(self, reason: str) -> HangUp:
        return HangUp(summary=self._summary(reason, self.state.intent),
                      callback=self.state.callback)

    def failure(self, reason: str) -> Failure:
        return Failure(summary=self._summary(reason, self.state.intent))

    def _summary(self, reason: str, intent: str) -> CallSummary:
        customer = self.state.customer
        return CallSummary(reason=reason, intent=intent, language=self.language,
                           path=tuple(self.state.path),
                           customer_id=customer.customer_id if customer else "",
                           menu_version=self.menus.version, choice=self.state.choice,
                           verification=self.state.verification)

    def _vip_priority(self, base: int) -> int:
        """VIP customers are answered before others with the same need."""
        customer = self.state.customer
        if customer is not None and customer.attributes.get("vip") is True:
            return max(base, min(base + 2, 10))
        return base
