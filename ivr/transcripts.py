"""Call transcripts: a scripted caller (press / say / silence / message / hang up, with
expected prompts and outcome) run through the real interpreter. The same files drive the unit
tier, `hotline simulate --script` and the real-Asterisk tier (by DTMF).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from ivr.agents import SkillRouter
from ivr.call import Ports
from ivr.directory import (
    CustomerRecord,
    InMemoryAccountServices,
    InMemoryDirectory,
    secrets_of,
)
from ivr.errors import CallerHungUp
from ivr.interpreter import Waited, run_menus
from ivr.menu_loader import MenuSet
from ivr.outcomes import Outcome, QueueCall
from ivr.ports import (
    ALL_KEYS,
    Customer,
    DigitEntry,
    DirectoryUnavailable,
    Heard,
    QueueLoad,
    RecordedMessage,
    VerificationStatus,
    digits_key_by_key,
)
from ivr.verification import InMemoryVerifier
from ivr.yamlsource import YamlRefused, safe_load


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Said(_Strict):
    """Words as a recogniser returns them: text, how sure it is, in which language."""

    text: str
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    language: str | None = Field(None, description="Default: the first language listened in.")


def _said(value: object) -> object:
    return {"text": value} if isinstance(value, str) else value


class Step(_Strict):
    """Exactly one of the fields."""

    press: str | None = Field(None, pattern=r"^[0-9*#]+$",
                              description="Keys, pressed one after another.")
    say: Annotated[Said, BeforeValidator(_said)] | None = Field(
        None, description="Words (or {text, confidence, language}).")
    silence: bool | None = Field(None, description="Say and press nothing this time.")
    message_ms: int | None = Field(None, ge=1, description="Speak a recorded message.")
    hangup: bool | None = None
    expect_prompt: str | None = Field(None, description="This prompt was played since the "
                                                        "previous input.")

    @model_validator(mode="after")
    def _one(self) -> Step:
        if len(self.model_fields_set) != 1:
            raise ValueError("each step has exactly one of press, say, silence, message_ms, "
                             "hangup, expect_prompt")
        return self


class Expected(_Strict):
    outcome: Literal["queue", "hangup", "failed", "hung-up"]
    queue: str | None = None
    priority: int | None = None
    intent: str | None = None
    language: str | None = None
    reason: str | None = None
    customer_id: str | None = None
    verified: str | None = Field(None, description="How the caller was verified: pin, "
                                                   "id_and_card, no or locked.")
    visits: list[str] = Field(default_factory=list, description="Nodes the call went through.")
    events: list[str] = Field(default_factory=list, description="Event kinds emitted.")
    callback_queue: str | None = Field(None, description="The queue whose agents call back "
                                                         "(the callback booked).")


class QueueLoadSpec(_Strict):
    waiting: int = Field(ge=0)
    ready_agents: int = Field(0, ge=0)
    logged_agents: int = Field(1, ge=0)


class Transcript(_Strict):
    name: str
    caller_number: str | None = "13900000000"
    at: datetime = Field(description="When the call happens (business hours matter).")
    directory: Literal["up", "down"] = "up"
    customers: list[CustomerRecord] = Field(default_factory=list)
    steps: list[Step]
    expect: Expected
    dtmf_only: bool = Field(False, description="Runs through real Asterisk too (keys only).")
    message_text: str | None = Field(None, description="What a transcribed message says.")
    queue_load: QueueLoadSpec | None = Field(None, description=(
        "The queue the caller would join: callers waiting and agents (for wait "
        "announcements and callback offers)."))
    start: str | None = Field(None, description="Begin at this node in `language` instead "
                                                "of the entry (e.g. line.survey).")
    language: str | None = None
    waited_for: str | None = Field(None, description=(
        "A caller back from a queue (start: line.no_agent): the menu queue they waited in."))
    locked_customers: list[str] = Field(default_factory=list, description=(
        "Customers whose verification an earlier call locked (for an hour from `at`)."))
    ticket: str = Field("26112300017", pattern=r"^\d+$",
                        description="The ticket number a filed complaint gets.")

    @model_validator(mode="after")
    def _aware(self) -> Transcript:
        if self.at.tzinfo is None:
            raise ValueError("`at` needs a timezone, e.g. 2026-11-23T10:00:00+08:00")
        return self


class TranscriptError(Exception):
    pass


def load_transcript(file: Path) -> Transcript:
    try:
        return Transcript.model_validate(safe_load(file))
    except (OSError, yaml.YAMLError, YamlRefused, ValidationError) as exc:
        raise TranscriptError(f"{file}: {exc}") from exc


@dataclass
class ScriptedCaller:
    """Plays the caller's side of a transcript against the interpreter's ports."""

    transcript: Transcript
    call_id: str = "sim-1"
    played: list[tuple[str, str]] = field(default_factory=list)  # prompt id, language
    failures: list[str] = field(default_factory=list)
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    # The call recording's moves, each with the prompts heard before it: ("start", 2).
    recording: list[tuple[str, int]] = field(default_factory=list)
    _steps: list[Step] = field(default_factory=list)
    _keys: list[str] = field(default_factory=list)
    _since_input: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._steps = list(self.transcript.steps)

    # -- ivr.ports.CallRecording ------------------------------------------------------------

    def start(self) -> None:
        self.recording.append(("start", len(self.played)))

    def pause(self) -> None:
        self.recording.append(("pause", len(self.played)))

    def resume(self) -> None:
        self.recording.append(("resume", len(self.played)))

    # -- the caller's next move -------------------------------------------------------------

    def _check_expectations(self) -> None:
        while self._steps and self._steps[0].expect_prompt is not None:
            wanted = self._steps.pop(0).expect_prompt
            if wanted not in self._since_input:
                self.failures.append(f"expected prompt '{wanted}', heard "
                                     f"{self._since_input or 'nothing'}")

    def _next_input(self) -> Step | None:
        self._check_expectations()
        self._since_input = []
        return self._steps.pop(0) if self._steps else None

    def _answer(self, want_speech: bool, timeout_ms: int,
                languages: list[str] | None = None) -> Heard | None:
        if self._keys:
            return Heard(key=self._keys.pop(0))
        step = self._next_input()
        if step is None or step.silence:
            self.stayed_silent(timeout_ms)
            return None
        if step.hangup:
            raise CallerHungUp("scripted hang-up")
        if step.press is not None:
            return Heard(key=self._press(step.press))
        if step.say is not None:
            if not want_speech:
                self.failures.append(f"said '{step.say.text}' where only keys are heard")
                return None
            return Heard(text=step.say.text, confidence=step.say.confidence,
                         language=step.say.language or (languages[0] if languages else None))
        self.failures.append(f"step {step.model_dump(exclude_unset=True)} does not answer a "
                             "menu")
        return None

    def _press(self, keys: str) -> str:
        self.pressed(keys)
        self._keys = list(keys[1:])
        return keys[0]

    # Hooks for a caller that keeps time (real-Asterisk schedules); no-ops here.
    def pressed(self, keys: str) -> None:
        return None

    def stayed_silent(self, timeout_ms: int) -> None:
        return None

    def barge_in(self, prompt_id: str, language: str, escape_keys: str) -> str | None:
        """A key pressed over a prompt that is playing; this caller always listens to the
        end."""
        return None

    def may_press_over(self, prompt_id: str) -> bool:
        """For a caller who barges in: press during this prompt only if the next input is a
        press and every prompt the transcript expects before it has been heard (this one
        included)."""
        heard = {*self._since_input, prompt_id}
        for step in self._steps:
            if step.expect_prompt is None:
                return step.press is not None
            if step.expect_prompt not in heard:
                return False
        return False

    def finish(self) -> None:
        self._check_expectations()
        left = [s.model_dump(exclude_unset=True) for s in self._steps]
        if left:
            self.failures.append(f"steps never used: {left}")

    # -- ports ------------------------------------------------------------------------------

    def typed_ahead(self, escape_keys: str) -> str | None:
        """A key the caller already pressed (the rest of a multi-key press) ends a prompt."""
        if self._keys and self._keys[0] in escape_keys:
            return self._keys.pop(0)
        return None

    def hear_prompt(self, prompt_id: str, language: str) -> None:
        self.played.append((prompt_id, language))
        self._since_input.append(prompt_id)

    def play(self, sound: str, escape_keys: str = ALL_KEYS) -> str | None:
        self.hear_prompt(sound, "")
        return None  # the scripted caller listens to the end; keys come when asked

    def wait_for_key(self, timeout_ms: int) -> str | None:
        heard = self._answer(want_speech=False, timeout_ms=timeout_ms)
        return heard.key if heard else None

    def listen(self, languages: list[str], phrases: list[str], timeout_ms: int, *,
               stream: bool = False,
               prompts: Sequence[tuple[str, str]] = ()) -> Heard | None:
        for prompt_id, language in prompts:  # streaming: keys cut the prompts as usual
            key = self.typed_ahead(ALL_KEYS)
            if key is None:
                key = self.barge_in(prompt_id, language, ALL_KEYS)
            if key is not None:
                return Heard(key=key)
            self.hear_prompt(prompt_id, language)
        return self._answer(want_speech=True, timeout_ms=timeout_ms, languages=languages)

    def transcribe(self, reference: str, language: str) -> str | None:
        return self.transcript.message_text

    def read_digits(self, sounds: Sequence[str], entry: DigitEntry) -> str | None:
        return digits_key_by_key(self.play, self.wait_for_key, sounds, entry)

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        return None

    def record_message(self, purpose: str, max_duration_s: int,
                       silence_s: int) -> RecordedMessage | None:
        self._check_expectations()
        if self._steps and self._steps[0].message_ms is not None:
            duration = self._steps.pop(0).message_ms or 0
            self._since_input = []
            return RecordedMessage(f"{self.call_id}-{purpose}.wav",
                                   min(duration, max_duration_s * 1000))
        return None

    def get_variable(self, name: str) -> str | None:
        if name == "CALLERID(num)":
            return self.transcript.caller_number
        return self.variables.get(name)

    def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    def emit(self, call_id: str, kind: str, data: dict[str, object]) -> None:
        self.events.append((kind, data))

    def now(self) -> datetime:
        return self.transcript.at

    def issue(self, now: datetime) -> str:
        return self.transcript.ticket

    def load(self, queue: str, language: str) -> QueueLoad | None:
        spec = self.transcript.queue_load
        return None if spec is None else QueueLoad(spec.waiting, spec.ready_agents,
                                                   spec.logged_agents)


class ScriptedPrompter:
    def __init__(self, caller: ScriptedCaller) -> None:
        self.caller = caller

    def play(self, prompt_id: str, language: str, escape_keys: str = ALL_KEYS) -> str | None:
        typed_ahead = self.caller.typed_ahead(escape_keys)
        if typed_ahead is not None:
            return typed_ahead  # the prompt is cut at its start
        barged = self.caller.barge_in(prompt_id, language, escape_keys)
        if barged is not None:
            return barged
        self.caller.hear_prompt(prompt_id, language)
        return None

    def read_digits(self, prompt_ids: Sequence[str], language: str,
                    entry: DigitEntry) -> str | None:
        return digits_key_by_key(lambda prompt_id: self.play(prompt_id, language),
                                 self.caller.wait_for_key, prompt_ids, entry)


class TranscriptDirectory:
    """The customer directory a transcript describes (or an outage, `directory: down`)."""

    def __init__(self, transcript: Transcript) -> None:
        self.down = transcript.directory == "down"
        self.records = InMemoryDirectory(transcript.customers)

    def find_customer(self, by: str, value: str) -> Customer | None:
        if self.down:
            raise DirectoryUnavailable("scripted outage")
        return self.records.find_customer(by, value)


@dataclass
class TranscriptResult:
    transcript: Transcript
    outcome: Outcome | None
    caller: ScriptedCaller
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TranscriptServices:
    """The verifier and self-service a transcript's customers have (secrets, tickets)."""

    verifier: InMemoryVerifier
    accounts: InMemoryAccountServices

    @classmethod
    def of(cls, transcript: Transcript) -> TranscriptServices:
        secrets = secrets_of(transcript.customers)
        locked = VerificationStatus(frozenset(), 3, transcript.at + timedelta(hours=1))
        return cls(InMemoryVerifier(secrets, {c: locked for c in transcript.locked_customers}),
                   InMemoryAccountServices(transcript.customers))


def run_transcript(menus: MenuSet, transcript: Transcript,
                   caller: ScriptedCaller | None = None) -> TranscriptResult:
    caller = caller or ScriptedCaller(transcript)
    services = TranscriptServices.of(transcript)
    ports = Ports(channel=caller, prompter=ScriptedPrompter(caller),
                  directory=TranscriptDirectory(transcript),
                  verifier=services.verifier, accounts=services.accounts,
                  recorder=caller, events=caller, clock=caller,
                  router=SkillRouter.for_menus(menus),
                  listener=None if transcript.dtmf_only else caller,
                  queue_info=caller if transcript.queue_load else None, tickets=caller,
                  recording=caller)
    outcome: Outcome | None = None
    try:
        waited = Waited(transcript.waited_for) if transcript.waited_for else None
        outcome = run_menus(menus, ports, transcript.start, transcript.language, waited)
    except CallerHungUp:
        outcome = None
    caller.finish()
    failures = list(caller.failures) + check_outcome(transcript.expect, outcome,
                                                     caller.events)
    return TranscriptResult(transcript, outcome, caller, failures)


def check_outcome(expect: Expected, outcome: Outcome | None,
                  events: list[tuple[str, dict[str, object]]]) -> list[str]:
    failures = []
    kind = outcome.kind.value if outcome else "hung-up"
    if kind != expect.outcome:
        failures.append(f"outcome {kind}, expected {expect.outcome}")
    if outcome is not None:
        got: dict[str, object] = {
            "queue": outcome.service if isinstance(outcome, QueueCall) else None,
            "priority": outcome.priority if isinstance(outcome, QueueCall) else 0,
            "intent": outcome.intent, "language": outcome.language, "reason": outcome.reason,
            "customer_id": outcome.customer_id,
            "verified": outcome.verification.label()}
        for name, value in got.items():
            wanted = getattr(expect, name)
            if wanted is not None and value != wanted:
                failures.append(f"{name} {value!r}, expected {wanted!r}")
        for node in expect.visits:
            if node not in outcome.path:
                failures.append(f"never visited {node} (path {' > '.join(outcome.path)})")
    event_kinds = [kind for kind, _ in events]
    for event in expect.events:
        if event not in event_kinds:
            failures.append(f"no '{event}' event (got {event_kinds})")
    if expect.callback_queue is not None:
        booked = [data.get("queue") for kind, data in events if kind == "callback-requested"]
        if booked != [expect.callback_queue]:
            failures.append(f"callbacks booked for {booked}, expected "
                            f"[{expect.callback_queue!r}]")
    return failures
