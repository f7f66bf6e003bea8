"""Ports: the small interfaces through which the pure IVR talks to telephony and friends.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy; adapters in `agi/`, `speech/`, `db/`
implement these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Protocol

from ivr.outcomes import QueueRoute

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

    def read_digits(self, sounds: Sequence[str], entry: DigitEntry) -> str | None:
        """Play `sounds` (paths without extension) with keys live, then collect a number as
        `entry` says. One channel operation from the first sound to the last key, so no key
        can fall between two (Asterisk drops keys that arrive between AGI commands)."""
        ...

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        """Record the caller to `file_stem`.wav (after a beep unless `beep` is off) until
        `silence_s` of silence, an escape key or the limit. Returns the key that ended it."""
        ...

    def get_variable(self, name: str) -> str | None:
        """Read a channel variable; None when it is not set."""
        ...

    def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable (the way AGI hands results back to the dialplan)."""
        ...


@dataclass(frozen=True)
class DigitEntry:
    """How a number is keyed: up to `max_digits` keys, ended early by `terminator` (None:
    only by the count or a pause) or by a pause of `next_key_timeout_ms` between keys; the
    first key may take `first_key_timeout_ms` after the prompts end."""

    max_digits: int
    first_key_timeout_ms: int
    next_key_timeout_ms: int = 3000
    terminator: str | None = "#"

    def after_first_key(self) -> DigitEntry:
        """The rest of the number once its first key is in."""
        return replace(self, max_digits=self.max_digits - 1,
                       first_key_timeout_ms=self.next_key_timeout_ms)


def digits_key_by_key(play: Callable[[str], str | None],
                      wait_for_key: Callable[[int], str | None], prompts: Sequence[str],
                      entry: DigitEntry) -> str | None:
    """`read_digits` for simulated channels that hand out one key at a time: each prompt
    with keys live (`play` returns the key that cut it), then the keys. None: no key came;
    "": the terminator alone."""
    first = None
    for prompt in prompts:
        first = play(prompt)
        if first is not None:
            break
    if first is None:
        first = wait_for_key(entry.first_key_timeout_ms)
    if first is None:
        return None
    if first == entry.terminator:
        return ""
    digits = first
    while len(digits) < entry.max_digits:
        key = wait_for_key(entry.next_key_timeout_ms)
        if key is None or key == entry.terminator:
            break
        digits += key
    return digits


class Prompter(Protocol):
    """Plays catalog prompts in a language (pre-rendered audio on a real line, text in the
    simulator)."""

    def play(self, prompt_id: str, language: str, escape_keys: str = ALL_KEYS) -> str | None:
        """Play the prompt; returns the key that interrupted it."""
        ...

    def read_digits(self, prompt_ids: Sequence[str], language: str,
                    entry: DigitEntry) -> str | None:
        """The prompts with keys live, then a number keyed as `entry` says, in one channel
        operation (`Channel.read_digits`). None: no key came; "": the terminator alone."""
        ...


@dataclass(frozen=True)
class Heard:
    """What the caller answered: a key, or recognised words (already normalised)."""

    key: str | None = None
    text: str | None = None  # "" when the caller spoke but nothing was understood
    confidence: float = 1.0
    language: str | None = None  # whose model understood it (several may have listened)
    interrupted: bool = False  # the caller talked over the prompt (barge-in)


class SpeechUnavailable(Exception):
    """Speech cannot be heard now (service down or overloaded, no model for the language):
    the call goes on by keys. `heard_audio`: the caller had already spoken."""

    def __init__(self, reason: str, *, heard_audio: bool = False) -> None:
        super().__init__(reason)
        self.heard_audio = heard_audio


class Listener(Protocol):
    """Speech input. Keys stay live while listening."""

    def listen(self, languages: list[str], phrases: list[str], timeout_ms: int, *,
               stream: bool = False,
               prompts: Sequence[tuple[str, str]] = ()) -> Heard | None:
        """The caller's answer by voice or key; None when they said and pressed nothing.
        `phrases` restrict what the models listen for ([] = free speech); with several
        languages, the model that understood best answers. With `stream`, the listener plays
        `prompts` ((prompt id, language), in order) itself and the caller may talk over them.
        Raises SpeechUnavailable (before playing anything when speech cannot be heard)."""
        ...

    def transcribe(self, reference: str, language: str) -> str | None:
        """Free text of a recorded message. Raises SpeechUnavailable."""
        ...


@dataclass(frozen=True)
class Customer:
    """What a lookup found. `attributes` are flags and figures for routing and prompts (vip,
    overdue, days_overdue, card_status, ...); names and numbers stay in the directory."""

    customer_id: str
    attributes: dict[str, bool | int | str] = field(default_factory=dict)


class DirectoryUnavailable(Exception):
    """The customer directory cannot answer now (database down, timeout)."""


class Directory(Protocol):
    def find_customer(self, by: str, value: str) -> Customer | None:
        """`by` is caller_number, account or card. Raises DirectoryUnavailable."""
        ...


@dataclass(frozen=True)
class RecordedMessage:
    reference: str  # where the adapter stored it; named by call id, never by caller data
    duration_ms: int


class MessageRecorder(Protocol):
    def record_message(self, purpose: str, max_duration_s: int,
                       silence_s: int) -> RecordedMessage | None:
        """Record after a beep until silence, a key or the limit; None if nothing was said."""
        ...


@dataclass(frozen=True)
class QueueLoad:
    waiting: int  # callers already waiting in the queue the caller would join
    ready_agents: int  # logged in, not paused, not on a call
    logged_agents: int


class QueueInfo(Protocol):
    def load(self, queue: str, language: str) -> QueueLoad | None:
        """The queue a caller of `language` would join; None when it cannot be known."""
        ...


class CallRecording(Protocol):
    """The call's compliance recording (caller and IVR/agent on separate stereo channels).
    Starts once the caller has heard the recording disclosure; paused while the caller keys
    sensitive digits so that their tones never reach the file. Calling start twice, or
    resume without a pause, does nothing."""

    def start(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...


class EventSink(Protocol):
    """Durable record of what happened in a call (call path, callbacks, messages). Must not
    raise and must not block the call: adapters queue or spool."""

    def emit(self, call_id: str, kind: str, data: dict[str, object]) -> None: ...


class TicketUnavailable(Exception):
    """No ticket number can be issued now (its store is unwritable)."""


class TicketIssuer(Protocol):
    def issue(self, now: datetime) -> str:
        """A new complaint ticket number (digits only, unique, read back to the caller).
        `now` is local time on the line. Raises TicketUnavailable."""
        ...


class VerifierUnavailable(Exception):
    """Secrets cannot be checked now (database down): the caller goes to an agent."""


@dataclass(frozen=True)
class VerificationStatus:
    """A customer's standing for verification, across calls."""

    enrolled: frozenset[str]  # methods the customer has a secret for (pin, id_and_card)
    failures: int  # consecutive wrong secrets
    locked_until: datetime | None  # None: not locked

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


class Verifier(Protocol):
    """Checks a caller's secret against the customer's stored argon2id hash. Every attempt is
    stored with its call id; `max_failures` wrong in a row lock the customer out until
    `lock_minutes` have passed, across calls. Raises VerifierUnavailable."""

    def status(self, customer_id: str, now: datetime) -> VerificationStatus: ...

    def attempt(self, customer_id: str, method: str, secret: str, *, call_id: str,
                now: datetime, max_failures: int, lock_minutes: int
                ) -> VerificationStatus:
        """The status after this attempt: failures 0 when the secret was right."""
        ...


class ServiceUnavailable(Exception):
    """A self-service action cannot be carried out now: an agent does it instead."""


@dataclass(frozen=True)
class TicketState:
    ticket: str
    category: str  # complaint category or service ticket kind (card-dispute, refund)
    status: str  # new | in-progress | replied | resolved | closed
    reply_due: datetime | None = None


class AccountServices(Protocol):
    """What a verified caller can get done without an agent. Raises ServiceUnavailable."""

    def freeze_cards(self, customer_id: str, *, call_id: str, now: datetime) -> int:
        """Freeze every active card of the customer at once (stored and audited; only an
        agent undoes it). Returns how many cards were frozen now."""
        ...

    def promise_to_pay(self, customer_id: str, amount: str, pay_by: date, *, call_id: str,
                       now: datetime) -> None:
        """Store the customer's promise to pay `amount` (yuan, "1234.50") by `pay_by`, for
        the collections agents."""
        ...

    def ticket(self, customer_id: str, ticket: str) -> TicketState | None:
        """The customer's own ticket with that number; None when there is none (someone
        else's ticket is none too)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware current time."""
        ...


class Router(Protocol):
    """Where a caller who needs `service` (a menu queue) waits for an agent."""

    def route(self, service: str, language: str, priority: int) -> QueueRoute:
        ...


class SystemClock:
    """`Clock` of real calls and services: the host's time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
