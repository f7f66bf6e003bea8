"""The menu interpreter: walks a caller through a `MenuSet` and returns an `Outcome`.

Driven only through ports (Channel, Prompter, Listener, Directory, MessageRecorder, EventSink,
Clock), so the same code serves real calls, the terminal simulator and the transcript tests.
Never loops forever: menus reprompt, offer an agent on the last attempt, then send the caller
to the line's `exhausted` node; a step limit catches anything else.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ivr import menu_schema as schema
from ivr import spoken, vocabulary
from ivr.calendar import is_open, time_between
from ivr.contact_policy import earliest_call
from ivr.errors import CallerHungUp
from ivr.matching import CHECKS, phrase_matches
from ivr.menu_loader import MenuSet
from ivr.outcomes import Outcome, OutcomeKind
from ivr.ports import (
    ALL_KEYS,
    CallRecording,
    Channel,
    Clock,
    Customer,
    Directory,
    DirectoryUnavailable,
    EventSink,
    Heard,
    Listener,
    MessageRecorder,
    Prompter,
    QueueInfo,
    QueueLoad,
    SpeechUnavailable,
    TicketIssuer,
    TicketUnavailable,
)

log = logging.getLogger(__name__)

CALLBACK_THIS_NUMBER_KEY = "1"
CALLBACK_OTHER_NUMBER_KEY = "2"
CALLBACK_NUMBER_MIN_LENGTH = 5  # short internal extensions up to international numbers
CALLBACK_NUMBER_MAX_LENGTH = 15
CALLBACK_NEXT_KEY_TIMEOUT_MS = 3000
CALLBACK_SLOT = "callback_number"  # where a booked callback's number is kept for the outcome
CALLBACK_NOW_SLOT = "callback_now"  # "yes" when it may be dialled at once (not quiet hours)
TICKET_SLOT = "ticket"  # a filed complaint's ticket number, for a say node to read back


@dataclass(frozen=True)
class Ports:
    channel: Channel
    prompter: Prompter
    directory: Directory
    recorder: MessageRecorder
    events: EventSink
    clock: Clock
    listener: Listener | None = None  # None: DTMF only
    queue_info: QueueInfo | None = None  # None: no wait announcements or callback offers
    tickets: TicketIssuer | None = None  # None: complaints go to an agent
    recording: CallRecording | None = None  # None: the call is not recorded (simulator)


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
    events: list[str] = field(default_factory=list)
    menu_stack: list[str] = field(default_factory=list)
    pending_key: str | None = None  # type-ahead: pressed during an announcement
    keys_only: bool = False  # speech failed for this call: never wait on it again
    message: str | None = None  # the last recorded message's reference (complaints)


class FlowError(Exception):
    """The flow cannot go on (step limit); the caller goes to the fallback queue."""


class Interpreter:
    def __init__(self, menus: MenuSet, ports: Ports) -> None:
        self.menus = menus
        self.line = menus.line
        self.ports = ports
        # One handler per node kind (a unit test checks every kind has one).
        self.handlers: dict[str, Callable[[str, Any, CallState], str | Outcome]] = {
            "play": self._play, "menu": self._menu, "collect": self._collect,
            "language": self._language, "condition": self._condition, "lookup": self._lookup,
            "queue": self._queue, "record": self._record, "callback": self._callback,
            "complaint": self._complaint, "say": self._say,
            "goto": self._goto, "hangup": self._hangup,
        }

    def run(self, start: str | None = None, language: str | None = None) -> Outcome:
        """Walk the menus from the line's entry (or from `start`, in `language`: a caller
        coming back from a queue to book a callback)."""
        channel = self.ports.channel
        state = CallState(language=language or self.line.default_language,
                          caller_number=_caller_number(channel))
        outcome: Outcome | None = None
        try:
            outcome = self._walk(state, start or self.line.entry)
            return outcome
        except CallerHungUp:
            state.events.append("caller hung up")
            raise
        finally:
            self._emit_summary(state, outcome)

    def _walk(self, state: CallState, node_id: str) -> Outcome:
        for _step in range(self.line.max_steps):
            node = self.menus.nodes[node_id]
            state.path.append(node_id)
            result = self.handlers[node.kind](node_id, node, state)
            if self.line.recording_disclosure_prompt in node.plays():
                self._start_recording(state)
            if isinstance(result, Outcome):
                return result
            node_id = result
        log.warning("call %s: step limit %d reached at %s", self.ports.channel.call_id,
                    self.line.max_steps, node_id)
        return self._outcome(Outcome.failed("step-limit"), state)

    # -- node handlers ----------------------------------------------------------------------

    def _play(self, node_id: str, node: schema.PlayNode, state: CallState) -> str:
        escape = ALL_KEYS if node.interruptible else ""
        return self._play_all(list(node.prompt), state, escape, node.next)

    def _menu(self, node_id: str, node: schema.MenuNode, state: CallState) -> str:
        phrases = vocabulary.spoken_phrases(self.menus, node)
        speaking = self._speech_languages(node, state)
        spoken_failures = 0
        lead: list[str] = []
        for attempt in range(1, node.attempts + 1):
            prompts = [*lead, *node.prompt]
            if attempt == node.attempts and attempt > 1 and node.agent_allowed:
                prompts += self.line.agent_offer_prompt
            if spoken_failures >= self.line.speech.attempts and speaking:
                state.events.append(f"{node_id}: keys only")
                speaking = []
            heard = self._ask(prompts, node.timeout_ms, phrases, state, node_id=node_id,
                              languages=speaking, stream=self._streams(node))
            heard = self._accept_speech(node_id, heard, state)
            if speaking and (heard is None or heard.key is None):
                spoken_failures += 1
            if heard is None:
                state.events.append(f"{node_id}: no input")
                lead = list(node.no_input_prompt or self.line.no_input_prompt)
                continue
            if node.agent_allowed and self._wants_agent(heard):
                state.events.append(f"{node_id}: asked for an agent")
                state.reason = "caller-asked-agent"
                return self.line.agent
            if heard.key is not None and heard.key == node.repeat_key:
                lead = []
                continue
            if heard.key is not None and heard.key == node.back_key and state.menu_stack:
                state.events.append(f"{node_id}: back")
                return state.menu_stack.pop()
            option = _match_option(node.options, heard)
            if option is not None:
                state.events.append(f"{node_id}: {_describe(heard)}")
                if option.score is not None:  # who answered and in which queue: the records
                    self.ports.events.emit(self.ports.channel.call_id, "survey-answered", {
                        "score": option.score, "by_voice": heard.key is None,
                        "node": node_id, "language": state.language})
                if option.intent:
                    state.intent = option.intent
                state.menu_stack.append(node_id)
                return option.goto
            state.events.append(f"{node_id}: no match")
            lead = list(node.no_match_prompt or self.line.no_match_prompt)
        state.reason = "menu-attempts-exhausted"
        return node.fallback or self.line.exhausted

    def _start_recording(self, state: CallState) -> None:
        # Only now has the caller been told: the recording starts after the disclosure.
        if self.ports.recording is not None:
            self.ports.recording.start()
            state.events.append("recording started")

    def _collect(self, node_id: str, node: schema.CollectNode, state: CallState) -> str:
        recording = self.ports.recording if node.sensitive else None
        if recording is None:
            return self._collect_digits(node_id, node, state)
        # Card, ID and PIN digits: their tones must not reach the compliance recording.
        recording.pause()
        state.events.append(f"{node_id}: recording paused")
        try:
            return self._collect_digits(node_id, node, state)
        finally:
            try:
                recording.resume()
                state.events.append(f"{node_id}: recording resumed")
            except CallerHungUp:
                log.debug("call %s: hung up before the recording resumed",
                          self.ports.channel.call_id)

    def _collect_digits(self, node_id: str, node: schema.CollectNode,
                        state: CallState) -> str:
        lead: list[str] = []
        for _attempt in range(node.attempts):
            heard = self._ask([*lead, *node.prompt], node.first_key_timeout_ms, [], state)
            if heard is None or heard.key is None:
                state.events.append(f"{node_id}: no input")
                lead = list(node.no_input_prompt or self.line.no_input_prompt)
                continue
            digits = self._read_digits(heard.key, node.terminator, node.max_length,
                                       node.next_key_timeout_ms)
            if _digits_valid(node.check, node.min_length, node.max_length, digits):
                state.slots[node.slot] = digits
                # Length only: the digits may be a card or ID number.
                state.events.append(f"{node_id}: {len(digits)} digits")
                return node.next
            state.events.append(f"{node_id}: invalid entry")
            lead = list(node.invalid_prompt or self.line.no_match_prompt)
        state.reason = "collect-attempts-exhausted"
        return node.fallback or self.line.exhausted

    def _read_digits(self, first: str, terminator: str | None, max_length: int,
                     next_key_timeout_ms: int) -> str:
        if first == terminator:
            return ""
        if max_length <= 1:
            return first
        if terminator in ("#", None):
            # '#' is the channel's own end key: collect the rest in one operation.
            return first + self.ports.channel.read_digits(max_length - 1, next_key_timeout_ms)
        digits = first
        while len(digits) < max_length:
            key = self.ports.channel.wait_for_key(next_key_timeout_ms)
            if key is None or key == terminator:
                break
            digits += key
        return digits

    def _language(self, node_id: str, node: schema.LanguageNode, state: CallState) -> str:
        for _attempt in range(node.attempts):
            heard = self._ask_each_language(node_id, node, state)
            heard = self._accept_speech(node_id, heard, state)
            if heard is None:
                continue
            for choice in node.choices:
                if (heard.key is not None and heard.key == choice.key) or (
                        heard.text and any(phrase_matches(heard.text, p) for p in choice.phrases)):
                    state.language = choice.language
                    state.events.append(f"{node_id}: {choice.language}")
                    return node.next
            if heard.text and heard.language in self.line.languages:
                # Spoke without choosing: the language whose model understood best.
                state.language = heard.language
                state.events.append(f"{node_id}: detected {heard.language}")
                return node.next
            state.events.append(f"{node_id}: no match")
        state.language = node.default or self.line.default_language
        state.events.append(f"{node_id}: default {state.language}")
        return node.next

    def _ask_each_language(self, node_id: str, node: schema.LanguageNode,
                           state: CallState) -> Heard | None:
        typed_ahead = _take_typed_ahead(state)
        if typed_ahead is not None:
            return typed_ahead
        for choice in node.choices:
            for prompt_id in choice.prompt:
                key = self.ports.prompter.play(prompt_id, choice.language, ALL_KEYS)
                if key is not None:
                    return Heard(key=key)
        # Free speech, not the choices' phrases: a caller who answers "我要挂失" instead of
        # naming a language is still heard, by every candidate model.
        return self._listen(node.timeout_ms, state, node_id=node_id, phrases=[],
                            languages=self._speech_languages(node, state))

    def _condition(self, node_id: str, node: schema.ConditionNode, state: CallState) -> str:
        for index, rule in enumerate(node.rules):
            if self._holds(rule.when, state):
                state.events.append(f"{node_id}: rule {index + 1}")
                return rule.goto
        state.events.append(f"{node_id}: otherwise")
        return node.otherwise

    def _holds(self, check: schema.Check, state: CallState) -> bool:
        now = self.ports.clock.now().astimezone(ZoneInfo(self.line.timezone))
        hours = self.line.business_hours
        attributes = state.customer.attributes if state.customer else {}
        tests = [
            check.open is None or is_open(hours[check.open], now),
            check.closed is None or not is_open(hours[check.closed], now),
            check.time_between is None or time_between(now, *check.time_between),
            check.customer_known is None or check.customer_known == (state.customer is not None),
            check.customer is None or all(attributes.get(k) == v
                                          for k, v in check.customer.items()),
            check.customer_at_least is None or all(
                _number(attributes.get(k)) >= v for k, v in check.customer_at_least.items()),
            check.language is None or state.language in check.language,
            check.slot_set is None or check.slot_set in state.slots,
        ]
        return all(tests)

    def _lookup(self, node_id: str, node: schema.LookupNode, state: CallState) -> str:
        value: str | None = state.caller_number if node.by == "caller_number" else state.slots.get(
            node.slot or "")
        if not value:
            state.events.append(f"{node_id}: nothing to look up")
            return node.not_found
        try:
            customer = self.ports.directory.find_customer(node.by, value)
        except DirectoryUnavailable:
            state.events.append(f"{node_id}: directory unavailable")
            return node.unavailable or node.not_found
        if customer is None:
            state.events.append(f"{node_id}: not found")
            return node.not_found
        state.customer = customer
        state.events.append(f"{node_id}: found")
        return node.found

    def _queue(self, node_id: str, node: schema.QueueNode,
               state: CallState) -> Outcome | str:
        for prompt_id in node.prompt or []:
            self.ports.prompter.play(prompt_id, state.language, "")
        wait_s = self._announce_wait(node, state)
        settings = self.line.queue_wait
        if node.callback and wait_s is not None and wait_s >= settings.offer_callback_after_s:
            key = self.ports.prompter.play(settings.callback_offer_prompt, state.language,
                                           ALL_KEYS)
            if key is None:
                key = self.ports.channel.wait_for_key(CALLBACK_NEXT_KEY_TIMEOUT_MS)
            state.events.append(f"{node_id}: wait {wait_s} s, callback "
                                f"{'chosen' if key == '1' else 'declined'}")
            if key == "1":
                state.intent = state.intent or node.intent
                return node.callback
        # Routed on purpose: the queue node names the need. Sent here by "agent please" or
        # exhausted retries: what the caller chose before says more.
        intent = node.intent if not state.reason else (state.intent or node.intent)
        outcome = Outcome(OutcomeKind.QUEUE, queue=node.queue, reason=state.reason or "routed",
                          skills=(*node.skills, f"lang-{state.language}"),
                          priority=node.priority, intent=intent,
                          callback_node=node.callback or "", leave_node=node.leave_to or "")
        return self._outcome(outcome, state)

    def _announce_wait(self, node: schema.QueueNode, state: CallState) -> int | None:
        """Tell the caller how many wait before them and about how long, in their language.
        Returns the estimated wait (None when the queue cannot be read)."""
        info = self.ports.queue_info
        settings = self.line.queue_wait
        if info is None:
            return None
        load = info.load(node.queue, state.language)
        if load is None:
            return None
        wait_s = estimated_wait_s(load, settings.average_handle_s)
        if wait_s == 0 or not settings.announce:
            return wait_s
        if state.language in self.menus.figure_languages:
            minutes = max(1, math.ceil(wait_s / 60))
            sequence = [settings.ahead_prompt,
                        *spoken.value_fragments("number", str(load.waiting), state.language),
                        settings.callers_prompt, settings.wait_prompt,
                        *spoken.value_fragments("number", str(minutes), state.language),
                        settings.minutes_prompt]
        else:
            sequence = [settings.busy_prompt]
        for prompt_id in sequence:
            self.ports.prompter.play(prompt_id, state.language, "")
        return wait_s

    def _record(self, node_id: str, node: schema.RecordNode, state: CallState) -> str:
        for prompt_id in node.prompt:
            self.ports.prompter.play(prompt_id, state.language, "")
        message = self.ports.recorder.record_message(node.purpose, node.max_duration_s,
                                                     node.silence_s)
        if message is None:
            state.events.append(f"{node_id}: nothing recorded")
            return node.on_empty or node.next
        self.ports.events.emit(self.ports.channel.call_id, "message-recorded", {
            "purpose": node.purpose, "reference": message.reference,
            "duration_ms": message.duration_ms, "node": node_id})
        state.events.append(f"{node_id}: recorded {message.duration_ms} ms")
        state.message = message.reference
        if node.transcribe:
            self._transcribe(node_id, message.reference, state)
        return node.next

    def _transcribe(self, node_id: str, reference: str, state: CallState) -> None:
        listener = self.ports.listener
        if listener is None or state.language not in self.line.speech.languages:
            return
        try:
            text = listener.transcribe(reference, state.language)
        except SpeechUnavailable as exc:
            state.events.append(f"{node_id}: not transcribed")
            log.info("call %s: message not transcribed: %s", self.ports.channel.call_id, exc)
            return
        # Stored with the call, never logged: a complaint describes the caller's affairs.
        self.ports.events.emit(self.ports.channel.call_id, "message-transcribed", {
            "node": node_id, "reference": reference, "language": state.language,
            "text": text or ""})

    def _callback(self, node_id: str, node: schema.CallbackNode, state: CallState) -> str:
        number = self._callback_number(node_id, node, state)
        if number is None:
            state.reason = "callback-not-booked"
            return node.fallback or self.line.exhausted
        # The earliest time the customer may be called (never in the quiet hours).
        not_before = earliest_call(self.ports.clock.now(), self.line.contact)
        self.ports.events.emit(self.ports.channel.call_id, "callback-requested", {
            "queue": node.queue, "number": number, "language": state.language,
            "intent": state.intent, "node": node_id,
            "not_before": not_before.isoformat(timespec="minutes")})
        state.events.append(f"{node_id}: callback booked")
        state.slots[CALLBACK_SLOT] = number
        state.slots[CALLBACK_NOW_SLOT] = "yes" if not_before <= self.ports.clock.now() \
            else "no"
        for prompt_id in node.done_prompt:
            self.ports.prompter.play(prompt_id, state.language, "")
        return node.next

    def _complaint(self, node_id: str, node: schema.ComplaintNode, state: CallState) -> str:
        now = self.ports.clock.now().astimezone(ZoneInfo(self.line.timezone))
        try:
            if self.ports.tickets is None:
                raise TicketUnavailable("no ticket store on this line")
            ticket = self.ports.tickets.issue(now)
        except TicketUnavailable as exc:
            log.error("call %s: complaint not filed: %s", self.ports.channel.call_id, exc)
            state.events.append(f"{node_id}: not filed")
            state.reason = "complaint-not-filed"
            return node.failed or self.line.agent
        category = node.category or state.intent or "other"
        # Deadlines run from now; the records layer sets them (db/complaints.py).
        self.ports.events.emit(self.ports.channel.call_id, "complaint-filed", {
            "ticket": ticket, "category": category, "language": state.language,
            "message": state.message, "node": node_id,
            "customer_id": state.customer.customer_id if state.customer else None})
        state.slots[TICKET_SLOT] = ticket
        state.events.append(f"{node_id}: filed")
        return node.next

    def _callback_number(self, node_id: str, node: schema.CallbackNode,
                         state: CallState) -> str | None:
        caller = state.caller_number or ""
        for _attempt in range(node.attempts):
            heard = self._ask(list(node.prompt), node.timeout_ms, [], state)
            if heard is None or heard.key is None:
                continue
            if heard.key == CALLBACK_THIS_NUMBER_KEY and caller.isdigit() and len(caller) >= 5:
                return caller
            if heard.key in (CALLBACK_THIS_NUMBER_KEY, CALLBACK_OTHER_NUMBER_KEY):
                entered = self._enter_number(node, state)
                if entered is not None:
                    return entered
        state.events.append(f"{node_id}: no number")
        return None

    def _enter_number(self, node: schema.CallbackNode, state: CallState) -> str | None:
        heard = self._ask(list(node.number_prompt), node.timeout_ms, [], state)
        if heard is None or heard.key is None:
            return None
        digits = self._read_digits(heard.key, "#", CALLBACK_NUMBER_MAX_LENGTH,
                                   CALLBACK_NEXT_KEY_TIMEOUT_MS)
        valid = _digits_valid("none", CALLBACK_NUMBER_MIN_LENGTH, CALLBACK_NUMBER_MAX_LENGTH,
                              digits)
        return digits if valid else None

    def _say(self, node_id: str, node: schema.SayNode, state: CallState) -> str:
        escape = ALL_KEYS if node.interruptible else ""
        if state.language not in self.menus.figure_languages:
            return self._play_all(list(node.fallback_prompt or []), state, escape, node.next)
        sequence: list[str] = []
        for part in node.parts:
            if part.prompt is not None:
                sequence.append(part.prompt)
                continue
            how, reference = part.value or ("", "")
            raw = self._value(reference, state)
            try:
                sequence += spoken.value_fragments(how, raw or "", state.language)
            except ValueError:
                # Unknown or unreadable: never read out a wrong figure.
                state.events.append(f"{node_id}: {reference} unknown")
                return node.missing or node.next
        return self._play_all(sequence, state, escape, node.next)

    def _value(self, reference: str, state: CallState) -> str | None:
        source, _, name = reference.partition(".")
        if source == "slot":
            return state.slots.get(name)
        if state.customer is None:
            return None
        value = state.customer.attributes.get(name)
        return None if value is None or isinstance(value, bool) else str(value)

    def _play_all(self, prompt_ids: list[str], state: CallState, escape: str,
                  then: str) -> str:
        for prompt_id in prompt_ids:
            key = self.ports.prompter.play(prompt_id, state.language, escape)
            if key is not None:
                state.pending_key = key  # type-ahead for the next menu
                break
        return then

    def _goto(self, node_id: str, node: schema.GotoNode, state: CallState) -> str:
        return node.goto

    def _hangup(self, node_id: str, node: schema.HangupNode, state: CallState) -> Outcome:
        for prompt_id in node.prompt or []:
            self.ports.prompter.play(prompt_id, state.language, "")
        return self._outcome(Outcome(OutcomeKind.HANGUP, reason=node.reason,
                                     intent=state.intent), state)

    # -- input ------------------------------------------------------------------------------

    def _ask(self, prompts: list[str], timeout_ms: int, phrases: list[str],
             state: CallState, *, node_id: str = "", languages: list[str] | None = None,
             stream: bool = False) -> Heard | None:
        """Play prompts with keys live, then wait for a key (or words in `languages`).
        A key pressed during an earlier announcement answers at once. Streaming, the
        listener plays the prompts so that the caller can talk over them."""
        typed_ahead = _take_typed_ahead(state)
        if typed_ahead is not None:
            return typed_ahead
        listener = self.ports.listener
        if stream and languages and listener is not None and not state.keys_only:
            try:
                return listener.listen(languages, phrases, timeout_ms, stream=True,
                                       prompts=[(p, state.language) for p in prompts])
            except SpeechUnavailable as exc:
                self._speech_failed(node_id, exc, state)
                if exc.heard_audio:
                    return Heard(text="")
        for prompt_id in prompts:
            key = self.ports.prompter.play(prompt_id, state.language, ALL_KEYS)
            if key is not None:
                return Heard(key=key)
        return self._listen(timeout_ms, state, node_id=node_id, phrases=phrases,
                            languages=languages or [])

    def _listen(self, timeout_ms: int, state: CallState, *, node_id: str,
                phrases: list[str], languages: list[str]) -> Heard | None:
        listener = self.ports.listener
        if languages and listener is not None and not state.keys_only:
            try:
                return listener.listen(languages, phrases, timeout_ms)
            except SpeechUnavailable as exc:
                self._speech_failed(node_id, exc, state)
                if exc.heard_audio:
                    return Heard(text="")  # they spoke: reprompt rather than wait in silence
        key = self.ports.channel.wait_for_key(timeout_ms)
        return Heard(key=key) if key is not None else None

    def _speech_failed(self, node_id: str, exc: SpeechUnavailable, state: CallState) -> None:
        state.keys_only = True
        state.events.append(f"{node_id}: speech unavailable, keys only")
        log.info("call %s: speech unavailable (%s): keys only", self.ports.channel.call_id, exc)

    def _streams(self, node: schema.MenuNode) -> bool:
        return (node.speech or self.line.speech.mode) == "stream"

    def _speech_languages(self, node: schema.MenuNode | schema.LanguageNode,
                          state: CallState) -> list[str]:
        """Languages to listen in at this node: the caller's own (menus) or every detection
        candidate (language nodes); [] for keys only."""
        if state.keys_only or self.ports.listener is None:
            return []
        candidates = vocabulary.listening_languages(self.menus, node)
        if isinstance(node, schema.LanguageNode):
            return candidates
        return [state.language] if state.language in candidates else []

    def _accept_speech(self, node_id: str, heard: Heard | None,
                       state: CallState) -> Heard | None:
        """Store what was recognised with the call, and refuse unsure results."""
        if heard is None or heard.text is None:
            return heard
        confident = heard.confidence >= self.line.speech.min_confidence
        self.ports.events.emit(self.ports.channel.call_id, "speech-result", {
            "node": node_id, "language": heard.language or state.language,
            "text": heard.text, "confidence": round(heard.confidence, 3),
            "accepted": confident, "interrupted_prompt": heard.interrupted})
        if not confident:
            state.events.append(f"{node_id}: unsure")
            return Heard(text="", confidence=heard.confidence, language=heard.language)
        return heard

    def _wants_agent(self, heard: Heard) -> bool:
        if heard.key is not None:
            return heard.key == self.line.agent_key
        return bool(heard.text) and any(phrase_matches(heard.text or "", p)
                                        for p in self.line.agent_phrases)

    # -- results ----------------------------------------------------------------------------

    def _outcome(self, outcome: Outcome, state: CallState) -> Outcome:
        facts = dict(outcome.facts)
        first_key = _first_key(state.events)
        if first_key:
            facts["choice"] = first_key
        if CALLBACK_SLOT in state.slots:
            facts["callback_number"] = state.slots[CALLBACK_SLOT]
            facts["callback_now"] = state.slots[CALLBACK_NOW_SLOT]
        return Outcome(
            outcome.kind, queue=outcome.queue, reason=outcome.reason, facts=facts,
            skills=outcome.skills, priority=_priority(outcome.priority, state),
            intent=outcome.intent, language=state.language, path=tuple(state.path),
            customer_id=state.customer.customer_id if state.customer else "",
            menu_version=self.menus.version, callback_node=outcome.callback_node,
            leave_node=outcome.leave_node)

    def _emit_summary(self, state: CallState, outcome: Outcome | None) -> None:
        self.ports.events.emit(self.ports.channel.call_id, "ivr-finished", {
            "menu_version": self.menus.version, "language": state.language,
            "path": list(state.path), "events": list(state.events),
            "outcome": outcome.kind.value if outcome else "hung-up",
            "queue": outcome.queue if outcome else None,
            "intent": state.intent,
            "customer_id": state.customer.customer_id if state.customer else None})


def _take_typed_ahead(state: CallState) -> Heard | None:
    """A key pressed during an earlier announcement answers the next question at once."""
    if state.pending_key is None:
        return None
    key, state.pending_key = state.pending_key, None
    return Heard(key=key)


def _caller_number(channel: Channel) -> str | None:
    number = channel.get_variable("CALLERID(num)")
    return number if number and number.isdigit() else None


def _match_option(options: list[schema.Option], heard: Heard) -> schema.Option | None:
    for option in options:
        if heard.key is not None and heard.key == option.key:
            return option
    if heard.text:
        for option in options:
            if any(phrase_matches(heard.text, phrase) for phrase in option.phrases):
                return option
    return None


def _describe(heard: Heard) -> str:
    return f"key {heard.key}" if heard.key is not None else "spoke"


def _digits_valid(check: str, min_length: int, max_length: int, digits: str) -> bool:
    # '*' stands for the X check character of a resident ID; elsewhere only digits count.
    plain = digits[:-1] + digits[-1:].replace("*", "0") if check == "cn_id" else digits
    return (min_length <= len(digits) <= max_length and plain.isdigit()
            and CHECKS[check](digits))


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _first_key(events: list[str]) -> str:
    for event in events:
        _node, _, tail = event.partition(": key ")
        if tail:
            return tail
    return ""


def _priority(base: int, state: CallState) -> int:
    """VIP customers are answered before others with the same need."""
    if state.customer is not None and state.customer.attributes.get("vip") is True:
        return max(base, min(base + 2, 10))
    return base


def estimated_wait_s(load: QueueLoad, average_handle_s: int) -> int:
    """About how long until an agent is free for a caller joining now: 0 when a ready agent
    waits for them; otherwise the callers ahead share the logged-in agents' calls."""
    position = load.waiting + 1
    if load.ready_agents >= position:
        return 0
    rounds = math.ceil((position - load.ready_agents) / max(1, load.logged_agents))
    return rounds * average_handle_s


def run_menus(menus: MenuSet, ports: Ports, start: str | None = None,
              language: str | None = None) -> Outcome:
    return Interpreter(menus, ports).run(start, language)
