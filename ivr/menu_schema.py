"""The schema of operator-edited menu files (`menus/*.yaml`): node kinds, line settings,
queues. Unknown keys are rejected so a typo is an error, not a silently ignored setting.

Every file may hold `nodes:`, `queues:` and (in exactly one file) `line:`; node ids are global
across files so a sub-menu can live in its own file. `hotline schema` exports this as JSON
Schema for editors.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ivr.contact_policy import ContactSettings

NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$",
                              description="Node id, e.g. `cards.menu`.")]
PromptId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$",
                                description="Prompt id from prompts/catalog.yaml.")]
QueueName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$",
                                 description="Queue name from a `queues:` section.")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]+)*$",
                                description="Language or dialect tag: cmn, yue, wuu, ...")]
def _key_text(value: object) -> object:
    # `key: 1` reads as an int in YAML; operators should not have to quote digits.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Key = Annotated[str, BeforeValidator(_key_text),
                Field(pattern=r"^[0-9*#]$", description="One DTMF key; quote * and #.")]
SlotName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


# One prompt id or a list played in order.
Prompts = Annotated[list[PromptId], BeforeValidator(_as_list), Field(min_length=1)]
Phrases = Annotated[list[str], BeforeValidator(_as_list)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# off: keys only. record: after the prompt, the caller's answer is recorded until a pause
# (keys stay live and end it at once) and recognised. stream: the caller's audio is recognised
# as it arrives, while the prompt plays: talking over the prompt interrupts it (barge-in) and
# the answer ends when the recogniser hears the caller stop.
SpeechMode = Literal["off", "record", "stream"]


class Edge(BaseModel):
    """A way out of a node, for validation and the graph."""

    model_config = ConfigDict(frozen=True)
    label: str
    target: str
    takes_input: bool  # the caller had to press or say something to follow it


class NodeBase(Strict):
    # Nodes that wait for the caller: a cycle through one of them is the caller's choice, a
    # cycle without one would spin forever.
    waits_for_caller: ClassVar[bool] = False

    description: str = Field("", description="What this node is for (shown in the graph).")

    def edges(self) -> list[Edge]:
        return []

    def prompt_ids(self) -> list[str]:
        return []

    def plays(self) -> list[str]:
        """Prompts this node always plays when entered (for the disclosure check)."""
        return []

    def reads_account(self) -> bool:
        """The caller learns something about an account here (a figure, its standing) or acts
        on it: only verified callers may get here (`hotline validate` proves it)."""
        return False


class PlayNode(NodeBase):
    """Play one or more prompts, then continue. A key pressed during it is kept for the next
    menu (type-ahead) when `interruptible`."""

    kind: Literal["play"]
    prompt: Prompts
    next: NodeId
    interruptible: bool = True

    def edges(self) -> list[Edge]:
        return [Edge(label="", target=self.next, takes_input=False)]

    def prompt_ids(self) -> list[str]:
        return list(self.prompt)

    def plays(self) -> list[str]:
        return list(self.prompt)


class Option(Strict):
    key: Key | None = None
    phrases: Phrases = Field(default_factory=list,
                             description="Spoken phrases (and synonyms) choosing this option.")
    language_phrases: dict[Language, Phrases] = Field(default_factory=dict, description=(
        "More phrases for callers of one language only, e.g. yue: [唔見咗張卡]."))
    goto: NodeId
    intent: str | None = Field(None, description="What the caller wants, for the agent's "
                                                 "screen and reports.")
    score: int | None = Field(None, ge=1, le=5, description=(
        "Satisfaction survey: choosing this option records this score (5 = very satisfied)."))

    @model_validator(mode="after")
    def _reachable_somehow(self) -> Option:
        if self.key is None and not self.all_phrases():
            raise ValueError("an option needs a key, phrases or both")
        return self

    def phrases_for(self, language: str) -> list[str]:
        """What a caller of `language` may say for this option."""
        return [*self.phrases, *self.language_phrases.get(language, [])]

    def all_phrases(self) -> list[str]:
        return [*self.phrases, *(p for more in self.language_phrases.values() for p in more)]


class MenuNode(NodeBase):
    """Offer choices by key or phrase. Silence or a wrong key reprompts; the last attempt also
    offers an agent; when attempts run out the caller goes to `fallback` (default: the line's
    `exhausted` node)."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["menu"]
    prompt: Prompts
    options: list[Option] = Field(min_length=1)
    timeout_ms: int = Field(5000, ge=1000, le=30000)
    attempts: int = Field(3, ge=1, le=5)
    no_input_prompt: Prompts | None = None
    no_match_prompt: Prompts | None = None
    fallback: NodeId | None = None
    repeat_key: Key | None = None
    back_key: Key | None = Field(None, description="Key returning to the previous menu.")
    agent_allowed: bool = Field(True, description="The line's agent key/phrases work here.")
    speech: SpeechMode | None = Field(None, description=(
        "Speech mode here; default: the line's `speech.mode`."))

    def edges(self) -> list[Edge]:
        out = [Edge(label=_option_label(o), target=o.goto, takes_input=True)
               for o in self.options]
        if self.fallback:
            out.append(Edge(label="no choice", target=self.fallback, takes_input=True))
        return out

    def prompt_ids(self) -> list[str]:
        return [*self.prompt, *(self.no_input_prompt or []), *(self.no_match_prompt or [])]


def _option_label(option: Option) -> str:
    parts = [option.key] if option.key else []
    if option.all_phrases():
        parts.append("「" + "／".join(option.all_phrases()[:2]) + "」")
    return " ".join(parts)


DigitCheck = Literal["none", "luhn", "cn_id", "cn_mobile", "ticket"]


class CollectNode(NodeBase):
    """Collect digits (account, card, ID number, phone) into a slot."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["collect"]
    prompt: Prompts
    slot: SlotName
    min_length: int = Field(1, ge=1, le=32)
    max_length: int = Field(20, ge=1, le=32)
    terminator: Key | None = "#"
    first_key_timeout_ms: int = Field(6000, ge=1000, le=30000)
    next_key_timeout_ms: int = Field(3000, ge=500, le=15000)
    attempts: int = Field(3, ge=1, le=5)
    check: DigitCheck = Field("none", description="luhn: bank card; cn_id: resident ID "
                                                  "checksum; cn_mobile: 11-digit mobile; "
                                                  "ticket: the hotline's Luhn-checked "
                                                  "ticket numbers.")
    sensitive: bool = Field(False, description="Never logged, never recorded in clear.")
    invalid_prompt: Prompts | None = None
    no_input_prompt: Prompts | None = None
    next: NodeId
    fallback: NodeId | None = None

    @model_validator(mode="after")
    def _lengths(self) -> CollectNode:
        if self.min_length > self.max_length:
            raise ValueError(f"min_length {self.min_length} is above max_length "
                             f"{self.max_length}")
        if self.check == "cn_id" and self.max_length < 18:
            raise ValueError("a resident ID has 18 characters: set max_length to 18")
        return self

    def edges(self) -> list[Edge]:
        out = [Edge(label=f"{self.slot} ok", target=self.next, takes_input=True)]
        if self.fallback:
            out.append(Edge(label="no valid input", target=self.fallback, takes_input=True))
        return out

    def prompt_ids(self) -> list[str]:
        return [*self.prompt, *(self.invalid_prompt or []), *(self.no_input_prompt or [])]


class LanguageChoice(Strict):
    key: Key | None = None
    phrases: Phrases = Field(default_factory=list)
    language: Language
    prompt: Prompts = Field(description="Played in this choice's own language.")


class LanguageNode(NodeBase):
    """Let the caller pick a language or dialect; silence keeps `default`."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["language"]
    choices: list[LanguageChoice] = Field(min_length=1)
    timeout_ms: int = Field(4000, ge=1000, le=30000)
    attempts: int = Field(2, ge=1, le=5)
    default: Language | None = Field(None, description="Default: the line's default language.")
    next: NodeId
    speech: SpeechMode | None = Field(None, description=(
        "Speech mode here; default: the line's `speech.mode`. A caller who speaks without "
        "choosing is heard by every `speech.detect_languages` model and gets the language "
        "understood best."))
    preferred_prompt: PromptId | None = Field(None, description=(
        "When the caller's customer record names a preferred language (or dialect) this "
        "menu offers, it is chosen without asking and this prompt says so, in that "
        "language, with `change_key` live; none: always ask."))
    change_key: Key = Field("9", description="Pressed during `preferred_prompt`: ask after all.")
    change_wait_ms: int = Field(1500, ge=0, le=10000, description=(
        "How long after `preferred_prompt` a caller may still press `change_key`."))

    def edges(self) -> list[Edge]:
        return [Edge(label="language", target=self.next, takes_input=True)]

    def prompt_ids(self) -> list[str]:
        preferred = [self.preferred_prompt] if self.preferred_prompt else []
        return [*preferred, *(p for c in self.choices for p in c.prompt)]


HourSpan = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$",
                                description="HH:MM-HH:MM, local time")]


class BusinessHours(Strict):
    timezone: str = "Asia/Shanghai"
    weekly: dict[Weekday, list[HourSpan]] = Field(
        description="Open spans per weekday; a missing day is closed.")
    holidays: list[date] = Field(default_factory=list, description="Closed all day.")
    extra_workdays: list[date] = Field(
        default_factory=list, description="Weekend days worked (调休): open with `workday` hours.")
    workday: Weekday = "mon"


class Check(Strict):
    """Everything given must hold."""

    open: str | None = Field(None, description="Business-hours name: true while open.")
    closed: str | None = Field(None, description="Business-hours name: true while closed.")
    time_between: tuple[time, time] | None = Field(
        None, description="Local time of day [from, to); wraps past midnight.")
    customer_known: bool | None = None
    customer: dict[str, bool | int | str] | None = Field(
        None, description="Customer attributes equal to these, e.g. {vip: true}.")
    customer_at_least: dict[str, int] | None = Field(
        None, description="Numeric customer attributes at least these, e.g. {days_overdue: 1}.")
    language: list[Language] | None = None
    slot_set: SlotName | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Check:
        if not self.model_fields_set:
            raise ValueError("a rule needs at least one test")
        return self


# Customer attributes a caller-ID lookup may act on before verification: they change whom the
# caller talks to, never what they hear about an account.
ROUTING_ATTRIBUTES = frozenset({"vip", "preferred_language"})
MAX_COMPLETE_PAUSE_MS = 3000  # the speech service refuses longer (speech.streaming)


class Rule(Strict):
    when: Check
    goto: NodeId

    def reads_account(self) -> bool:
        named = {*(self.when.customer or {}), *(self.when.customer_at_least or {})}
        return bool(named - ROUTING_ATTRIBUTES)


class ConditionNode(NodeBase):
    """Branch on business hours, time of day, language or customer attributes; first matching
    rule wins."""

    kind: Literal["condition"]
    rules: list[Rule] = Field(min_length=1)
    otherwise: NodeId

    def edges(self) -> list[Edge]:
        return [*(Edge(label=_check_label(r.when), target=r.goto, takes_input=False)
                  for r in self.rules),
                Edge(label="otherwise", target=self.otherwise, takes_input=False)]

    def reads_account(self) -> bool:
        # Where the caller goes next tells them about the account (overdue or not).
        return any(rule.reads_account() for rule in self.rules)


def _check_label(check: Check) -> str:
    return ", ".join(f"{name}={getattr(check, name)}" for name in sorted(check.model_fields_set))


class LookupNode(NodeBase):
    """Find the customer by the calling number or an entered account/card number."""

    kind: Literal["lookup"]
    by: Literal["caller_number", "account", "card"]
    slot: SlotName | None = Field(None, description="Slot holding the number (not for "
                                                    "caller_number).")
    found: NodeId
    not_found: NodeId
    unavailable: NodeId | None = Field(None, description="Directory down; default not_found.")

    @model_validator(mode="after")
    def _slot_given(self) -> LookupNode:
        if self.by != "caller_number" and self.slot is None:
            raise ValueError(f"lookup by {self.by} needs `slot:` naming the collected digits")
        return self

    def edges(self) -> list[Edge]:
        out = [Edge(label="found", target=self.found, takes_input=False),
               Edge(label="not found", target=self.not_found, takes_input=False)]
        if self.unavailable:
            out.append(Edge(label="unavailable", target=self.unavailable, takes_input=False))
        return out


class QueueNode(NodeBase):
    """Hand the caller to agents: the IVR ends here and the dialplan queues the call."""

    kind: Literal["queue"]
    queue: QueueName
    skills: list[str] = Field(default_factory=list)
    priority: int = Field(0, ge=0, le=10, description="Higher is answered first.")
    intent: str
    prompt: Prompts | None = None
    callback: NodeId | None = Field(None, description=(
        "A callback node offered when the estimated wait is long (line.queue_wait), and "
        "reached by pressing 1 while waiting: the callback keeps the caller's place."))
    leave_to: NodeId | None = Field(None, description=(
        "A menu node a waiting caller goes back to by pressing * (else * keeps them "
        "waiting in their place)."))
    max_wait_s: int = Field(300, ge=0, le=3600, description=(
        "How long a caller waits for an agent before the line's `no_agent` node offers a "
        "callback or a message; 0: no limit (lost cards: the caller waits for a person)."))

    def edges(self) -> list[Edge]:
        out = []
        if self.callback:
            out.append(Edge(label="callback instead of waiting", target=self.callback,
                            takes_input=True))
        if self.leave_to:
            out.append(Edge(label="* while waiting", target=self.leave_to, takes_input=True))
        return out

    def prompt_ids(self) -> list[str]:
        return list(self.prompt or [])

    def plays(self) -> list[str]:
        return list(self.prompt or [])


class RecordNode(NodeBase):
    """Record a message (complaint description, voicemail) after a beep."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["record"]
    purpose: Literal["complaint", "voicemail"]
    prompt: Prompts
    max_duration_s: int = Field(120, ge=5, le=600)
    silence_s: int = Field(4, ge=1, le=30)
    next: NodeId
    on_empty: NodeId | None = Field(None, description="Nothing was recorded; default next.")
    transcribe: bool = Field(False, description="Also store a free-text transcript of the "
                                                "message (when the caller's language has a model).")

    def edges(self) -> list[Edge]:
        out = [Edge(label="recorded", target=self.next, takes_input=True)]
        if self.on_empty:
            out.append(Edge(label="empty", target=self.on_empty, takes_input=True))
        return out

    def prompt_ids(self) -> list[str]:
        return list(self.prompt)

    def plays(self) -> list[str]:
        return list(self.prompt)


class CallbackNode(NodeBase):
    """Take a callback request: the calling number (press 1) or another one (press 2), a
    Chinese mobile or fixed-line number, read back and confirmed with 1."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["callback"]
    queue: QueueName | None = Field(None, description=(
        "Whose agents call back; none: the queue the caller was waiting in (a caller no "
        "agent could take), else general."))
    prompt: Prompts = Field(description="Offer: 1 = this number, 2 = another number.")
    number_prompt: Prompts
    done_prompt: Prompts
    invalid_prompt: PromptId = "callback.number_invalid"
    read_back_prompt: PromptId = "callback.number_is"
    confirm_prompt: PromptId = "callback.confirm_keys"
    timeout_ms: int = Field(5000, ge=1000, le=30000)
    attempts: int = Field(2, ge=1, le=5)
    next: NodeId
    fallback: NodeId | None = None

    def edges(self) -> list[Edge]:
        out = [Edge(label="callback booked", target=self.next, takes_input=True)]
        if self.fallback:
            out.append(Edge(label="no valid number", target=self.fallback, takes_input=True))
        return out

    def prompt_ids(self) -> list[str]:
        return [*self.prompt, *self.number_prompt, *self.done_prompt, self.invalid_prompt,
                self.read_back_prompt, self.confirm_prompt]


class ComplaintNode(NodeBase):
    """File a complaint: a ticket number is issued (slot `ticket`, read back by a say node)
    and the complaint is registered with its category (the caller's intent unless given),
    the message the caller recorded and their language. Reply and resolution deadlines start
    now."""

    kind: Literal["complaint"]
    category: str | None = Field(None, description="Default: the intent the caller chose.")
    next: NodeId
    failed: NodeId | None = Field(None, description="No ticket could be issued; default: "
                                                    "the line's agent node.")

    def edges(self) -> list[Edge]:
        out = [Edge(label="filed", target=self.next, takes_input=False)]
        if self.failed:
            out.append(Edge(label="not filed", target=self.failed, takes_input=False))
        return out


ValueRef = Annotated[str, Field(pattern=r"^(customer|slot)\.[a-z][a-z0-9_]*$",
                                description="customer.<attribute> or slot.<name>")]


class SayPart(Strict):
    """Exactly one of: a prompt, or a value read aloud as an amount (元), a number, a date
    (YYYY-MM-DD) or digit by digit."""

    prompt: PromptId | None = None
    amount: ValueRef | None = None
    number: ValueRef | None = None
    date: ValueRef | None = None
    digits: ValueRef | None = None

    @model_validator(mode="after")
    def _one(self) -> SayPart:
        if len(self.model_fields_set) != 1:
            raise ValueError("each part has exactly one of prompt, amount, number, date, digits")
        return self

    @property
    def value(self) -> tuple[str, str] | None:
        """(how, reference) for a spoken value; None for a prompt."""
        for how in ("amount", "number", "date", "digits"):
            reference = getattr(self, how)
            if reference is not None:
                return how, reference
        return None


def reads_customer(part: SayPart) -> bool:
    value = part.value
    return value is not None and value[1].startswith("customer.")


class SayNode(NodeBase):
    """Prompts with figures read aloud from pre-rendered fragments (balance, due date, ticket
    number). Languages without number fragments hear `fallback_prompt` instead."""

    kind: Literal["say"]
    parts: list[SayPart] = Field(min_length=1)
    fallback_prompt: Prompts | None = Field(
        None, description="For languages the catalog has no number fragments for.")
    next: NodeId
    missing: NodeId | None = Field(None, description="A value is unknown; default next.")
    interruptible: bool = True

    def edges(self) -> list[Edge]:
        out = [Edge(label="", target=self.next, takes_input=False)]
        if self.missing:
            out.append(Edge(label="value unknown", target=self.missing, takes_input=False))
        return out

    def part_prompts(self) -> list[str]:
        return [p.prompt for p in self.parts if p.prompt is not None]

    def reads_account(self) -> bool:
        return any(reads_customer(p) for p in self.parts)

    def prompt_ids(self) -> list[str]:
        return [*self.part_prompts(), *(self.fallback_prompt or [])]

    def plays(self) -> list[str]:
        return self.part_prompts()


VerifyMethod = Literal["pin", "id_and_card"]
VERIFY_METHODS: tuple[VerifyMethod, ...] = get_args(VerifyMethod)


class VerifyNode(NodeBase):
    """Verify the caller as the customer the lookup found: the phone-banking PIN, or the last
    6 of the resident ID and the last 4 of a card (line.verification says how). The digits
    pause the recording and are never kept. Wrong secrets count across calls; too many lock
    verification for a while, and a locked caller is told so and goes to `failed`."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["verify"]
    methods: list[VerifyMethod] | None = Field(None, min_length=1, description=(
        "Override of line.verification.methods for this node."))
    verified: NodeId = Field(description="Where a verified caller goes.")
    failed: NodeId = Field(description="Wrong secrets, locked, no secret on file, or the "
                                       "secrets cannot be checked now: usually an agent.")
    not_identified: NodeId | None = Field(None, description=(
        "No customer was found to verify against; default `failed`."))
    pin_prompt: PromptId = "verify.pin"
    id_prompt: PromptId = "verify.id_tail"
    card_prompt: PromptId = "verify.card_tail"
    wrong_prompt: PromptId = "verify.wrong"
    locked_prompt: PromptId = "verify.locked"
    verified_prompt: PromptId = "verify.ok"

    def prompt_ids(self) -> list[str]:
        return [self.pin_prompt, self.id_prompt, self.card_prompt, self.wrong_prompt,
                self.locked_prompt, self.verified_prompt]

    def edges(self) -> list[Edge]:
        out = [Edge(label="verified", target=self.verified, takes_input=True),
               Edge(label="not verified", target=self.failed, takes_input=True)]
        if self.not_identified:
            out.append(Edge(label="not identified", target=self.not_identified,
                            takes_input=True))
        return out


class FreezeCardNode(NodeBase):
    """Freeze the verified customer's cards at once (lost or stolen): stored and audited; only
    an agent can undo it. Then `done_prompt` tells the caller."""

    kind: Literal["freeze_card"]
    done_prompt: Prompts
    next: NodeId
    failed: NodeId = Field(description="The freeze could not be stored: an agent does it.")

    def edges(self) -> list[Edge]:
        return [Edge(label="frozen", target=self.next, takes_input=False),
                Edge(label="not frozen", target=self.failed, takes_input=False)]

    def prompt_ids(self) -> list[str]:
        return list(self.done_prompt)

    def reads_account(self) -> bool:
        return True


class PromiseNode(NodeBase):
    """A promise to pay by keys: the caller keys the date (MMDD) they will pay `amount` by,
    within `max_days`; it is read back (`confirm`, with slot.pay_by) and stored for the
    collections agents once the caller presses 1."""
    waits_for_caller: ClassVar[bool] = True

    kind: Literal["promise"]
    prompt: Prompts = Field(description="Ask for the date as 4 keys, month and day.")
    amount: ValueRef = Field("customer.overdue_amount", description="What is promised.")
    max_days: int = Field(14, ge=1, le=60, description="Latest date, in days from today.")
    invalid_prompt: Prompts = Field(description="The date is not within max_days.")
    confirm: list[SayPart] = Field(min_length=1, description=(
        "Read back, e.g. the date (date: slot.pay_by), the amount, then 1 to confirm, 2 to "
        "key it again."))
    done_prompt: Prompts
    attempts: int = Field(3, ge=1, le=5)
    timeout_ms: int = Field(6000, ge=1000, le=30000)
    next: NodeId
    failed: NodeId = Field(description="No promise made or stored: usually an agent.")

    def edges(self) -> list[Edge]:
        return [Edge(label="promised", target=self.next, takes_input=True),
                Edge(label="no promise", target=self.failed, takes_input=True)]

    def prompt_ids(self) -> list[str]:
        return [*self.prompt, *self.invalid_prompt, *self.done_prompt,
                *(p.prompt for p in self.confirm if p.prompt is not None)]

    def reads_account(self) -> bool:
        return True


class TicketStatusNode(NodeBase):
    """Read the status of the caller's own ticket (a dispute, refund or complaint) whose
    number a collect node put in `slot`."""

    kind: Literal["ticket_status"]
    slot: SlotName = "ticket_no"
    statuses: dict[Annotated[str, Field(pattern=r"^[a-z][a-z-]*$")], Prompts] = Field(
        min_length=1, description="Ticket status -> what the caller hears.")
    other_prompt: Prompts = Field(description="A status not listed above.")
    not_found_prompt: Prompts = Field(description="No ticket of this customer has that number.")
    next: NodeId
    not_found: NodeId | None = Field(None, description="Default: next.")
    failed: NodeId = Field(description="Tickets cannot be read now: usually an agent.")

    def edges(self) -> list[Edge]:
        out = [Edge(label="status told", target=self.next, takes_input=False),
               Edge(label="unavailable", target=self.failed, takes_input=False)]
        if self.not_found:
            out.append(Edge(label="no such ticket", target=self.not_found, takes_input=False))
        return out

    def prompt_ids(self) -> list[str]:
        return [*(p for prompts in self.statuses.values() for p in prompts),
                *self.other_prompt, *self.not_found_prompt]

    def reads_account(self) -> bool:
        return True


class GotoNode(NodeBase):
    kind: Literal["goto"]
    goto: NodeId

    def edges(self) -> list[Edge]:
        return [Edge(label="", target=self.goto, takes_input=False)]


class HangupNode(NodeBase):
    kind: Literal["hangup"]
    prompt: Prompts | None = None
    reason: str = "completed"

    def prompt_ids(self) -> list[str]:
        return list(self.prompt or [])


Node = Annotated[
    PlayNode | MenuNode | CollectNode | LanguageNode | ConditionNode | LookupNode | QueueNode
    | RecordNode | CallbackNode | ComplaintNode | SayNode | VerifyNode | FreezeCardNode
    | PromiseNode | TicketStatusNode | GotoNode | HangupNode,
    Field(discriminator="kind"),
]
# Every node kind, derived from the union above: the loader's list, the interpreter's
# registry (ivr.nodes) and the JSON Schema all come from here.
NODE_MODELS: tuple[type[NodeBase], ...] = get_args(get_args(Node)[0])


def kind_of(model: type[NodeBase]) -> str:
    (kind,) = get_args(model.model_fields["kind"].annotation)
    return str(kind)


NODE_KINDS: tuple[str, ...] = tuple(kind_of(model) for model in NODE_MODELS)
INPUT_KINDS = frozenset(kind_of(m) for m in NODE_MODELS if m.waits_for_caller)


class SpeechSettings(Strict):
    """How callers may answer by voice. Which model hears which language is the speech
    service's configuration (speech/models.yaml), not the menus'."""

    mode: SpeechMode = Field("off", description="Default for menu and language nodes.")
    languages: list[Language] = Field(default_factory=list, description=(
        "Languages whose callers may answer by voice; others use keys only."))
    detect_languages: list[Language] = Field(default_factory=list, description=(
        "Candidates for language/dialect detection at language nodes (default: languages)."))
    min_confidence: float = Field(0.6, ge=0.0, le=1.0, description=(
        "Below this, a recognised phrase counts as not understood."))
    attempts: int = Field(2, ge=1, le=5, description=(
        "Spoken tries at one menu before it listens for keys only."))
    end_silence_s: int = Field(2, ge=1, le=5, description=(
        "Recorded answers (mode record): a pause this long ends an answer."))
    complete_pause_ms: int = Field(300, ge=0, le=MAX_COMPLETE_PAUSE_MS, description=(
        "Streamed answers (mode stream): once the caller's words are a whole phrase of the "
        "menu, a pause this long ends the answer; otherwise, or with 0, the recogniser's "
        "own end-of-speech rules decide (about a second)."))
    max_answer_s: int = Field(8, ge=2, le=30, description="Longest spoken answer.")


class QueueWaitSettings(Strict):
    """What callers hear as they join a queue: how many wait before them and about how long,
    in their language; and, when the wait is long, an offer to be called back."""

    announce: bool = True
    average_handle_s: int = Field(180, ge=10, le=3600, description=(
        "Average call length, for the estimated wait."))
    offer_callback_after_s: int = Field(120, ge=0, le=3600, description=(
        "Offer a callback (queue nodes with `callback:`) when the estimate is this long."))
    ahead_prompt: PromptId = "queue.ahead"  # "there are" … callers ahead
    callers_prompt: PromptId = "queue.callers"
    wait_prompt: PromptId = "queue.wait"  # "about" … minutes
    minutes_prompt: PromptId = "queue.minutes"
    busy_prompt: PromptId = Field("queue.busy", description=(
        "Instead of the figures, in languages the catalog cannot say numbers in."))
    unstaffed_prompt: PromptId = Field("queue.unstaffed", description=(
        "When no agent is logged in to the queue: no wait can be promised, so no figures; "
        "the callback offer follows where the queue node has one."))
    callback_offer_prompt: PromptId = "queue.callback_offer"
    periodic_prompt: PromptId = Field("queue.periodic", description=(
        "Played every routing.periodic_announce_s while waiting: tells callers that 1 books "
        "a callback keeping their place."))

    def prompt_ids(self) -> list[str]:
        return [self.ahead_prompt, self.callers_prompt, self.wait_prompt,
                self.minutes_prompt, self.busy_prompt, self.unstaffed_prompt,
                self.callback_offer_prompt, self.periodic_prompt]


class VerificationSettings(Strict):
    """How `verify` nodes check that the caller is the customer."""

    methods: list[VerifyMethod] = Field(default_factory=lambda: list(VERIFY_METHODS),
                                        min_length=1, description=(
        "Tried in this order: the first one the customer has a secret for is asked."))
    max_failures: int = Field(3, ge=1, le=10, description=(
        "Wrong secrets in a row, across calls, that lock verification."))
    lock_minutes: int = Field(30, ge=1, le=10080, description="How long a lock lasts.")
    timeout_ms: int = Field(8000, ge=2000, le=30000, description="For the first key.")


class Dialect(Strict):
    """A dialect the line serves by people rather than by voice: its callers hear the prompts
    of `prompts` and are routed first to agents with its skill (lang-<tag>)."""

    name: str = Field(description="What callers and agents call it, e.g. 客家话.")
    prompts: Language = Field(description="Whose prompts its callers hear, e.g. cmn.")


class LineSettings(Strict):
    name: str
    entry: NodeId
    languages: list[Language] = Field(min_length=1, description="Enabled languages; every "
                                      "prompt must exist in each.")
    dialects: dict[Language, Dialect] = Field(default_factory=dict, description=(
        "Dialects offered as language choices (e.g. hak: {name: 客家话, prompts: cmn}): "
        "their callers hear another language's prompts and get agents who speak them."))
    default_language: Language
    timezone: str = Field("Asia/Shanghai", description="Local time for time-of-day tests.")
    agent_key: Key = "0"
    agent_phrases: Phrases = Field(default_factory=lambda: ["人工服务", "转人工"])
    agent: NodeId = Field(description="Where 'agent please' goes (usually a queue node).")
    exhausted: NodeId = Field(description="Where callers go when a menu's attempts run out.")
    survey: NodeId | None = Field(None, description=(
        "Satisfaction survey after the agent hangs up (a menu whose options have `score`); "
        "none: no survey."))
    no_agent: NodeId | None = Field(None, description=(
        "A menu (or callback) node for a caller no agent took within the queue's "
        "`max_wait_s`: offers a callback or a message, in the caller's language. Needed "
        "by every queue with a time limit."))
    no_input_prompt: Prompts
    no_match_prompt: Prompts
    agent_offer_prompt: Prompts = Field(description="Added to the last attempt of a menu.")
    recording_disclosure_prompt: PromptId
    business_hours: dict[str, BusinessHours] = Field(default_factory=dict)
    max_steps: int = Field(200, ge=10, le=10000, description="Guard against runaway flows.")
    speech: SpeechSettings = Field(default_factory=lambda: SpeechSettings.model_validate({}))
    queue_wait: QueueWaitSettings = Field(
        default_factory=lambda: QueueWaitSettings.model_validate({}))
    recordings: RecordingSettings = Field(
        default_factory=lambda: RecordingSettings.model_validate({}))
    contact: ContactSettings = Field(
        default_factory=lambda: ContactSettings.model_validate({}), description=(
            "When customers may be called back: quiet hours and attempts per day."))
    verification: VerificationSettings = Field(
        default_factory=lambda: VerificationSettings.model_validate({}))

    @model_validator(mode="after")
    def _default_enabled(self) -> LineSettings:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not one of "
                             f"languages {self.languages}")
        name = self.contact.business_hours
        if name is not None and name not in self.business_hours:
            raise ValueError(f"contact.business_hours {name!r} is not one of "
                             f"business_hours {sorted(self.business_hours)}")
        for tag, dialect in self.dialects.items():
            if tag in self.languages:
                raise ValueError(f"dialect {tag!r} is also in languages: list it once")
            if dialect.prompts not in self.languages:
                raise ValueError(f"dialect {tag!r} hears prompts in {dialect.prompts!r}, "
                                 f"which is not one of languages {self.languages}")
        return self

    def callback_hours(self) -> BusinessHours | None:
        name = self.contact.business_hours
        return self.business_hours.get(name) if name is not None else None

    @property
    def call_languages(self) -> list[str]:
        """Every language or dialect a caller may be served in (queues exist for each)."""
        return [*self.languages, *self.dialects]

    def prompt_language(self, language: str) -> str:
        """Whose prompts a caller of `language` hears."""
        dialect = self.dialects.get(language)
        return dialect.prompts if dialect is not None else language

    def prompt_ids(self) -> list[str]:
        return [*self.no_input_prompt, *self.no_match_prompt, *self.agent_offer_prompt,
                self.recording_disclosure_prompt, *self.queue_wait.prompt_ids()]


class RecordingSettings(Strict):
    """How long compliance recordings are kept. A call's category is `complaint_category`
    when the caller filed a complaint, else the `recording_category` of the queue whose
    agent answered, else `default_category`."""

    retention_years: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")],
                          Annotated[int, Field(ge=1, le=30)]] = Field(
        default_factory=lambda: {"service": 5, "complaint": 10},
        description="Years a recording is kept, by category (then purged unless on hold).")
    default_category: str = "service"
    complaint_category: str = "complaint"

    @model_validator(mode="after")
    def _categories_known(self) -> RecordingSettings:
        for name in (self.default_category, self.complaint_category):
            if name not in self.retention_years:
                raise ValueError(f"category {name!r} has no entry in retention_years")
        return self


class QueueDef(Strict):
    description: str
    recorded: bool = Field(True, description="Calls are recorded: callers must hear the "
                                             "recording disclosure before reaching it.")
    recording_category: str | None = Field(None, description=(
        "Retention category of calls this queue's agents answer (line.recordings)."))
    skills: list[str] = Field(default_factory=list)


class MenuFile(Strict):
    """One file under menus/."""

    line: LineSettings | None = None
    queues: dict[QueueName, QueueDef] = Field(default_factory=dict)
    nodes: dict[NodeId, Node] = Field(default_factory=dict)


def span_bounds(span: str) -> tuple[time, time | None]:
    """`08:30-24:00` -> (08:30, None) where None means end of day."""
    start, end = span.split("-")
    h, m = (int(x) for x in re.split(":", start))
    eh, em = (int(x) for x in re.split(":", end))
    return time(h, m), None if eh == 24 else time(eh, em)
