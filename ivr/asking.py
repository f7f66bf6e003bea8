"""Asking and listening, in one place: playing prompts (with keys live or not), waiting for a
key or words, streaming prompts through the listener so callers can talk over them, refusing
unsure speech, falling back to keys when speech fails, reading a number.

Every node handler asks through these functions; none talks to the prompter or the listener
itself.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ivr import menu_schema as schema
from ivr import vocabulary
from ivr.call import Call, StepKind
from ivr.errors import CallerHungUp
from ivr.matching import phrase_matches
from ivr.ports import ALL_KEYS, DigitEntry, Heard, SpeechUnavailable

log = logging.getLogger(__name__)


def announce(call: Call, prompt_ids: Sequence[str]) -> None:
    """Play prompts the caller cannot interrupt (waiting information, confirmations)."""
    for prompt_id in prompt_ids:
        call.ports.prompter.play(prompt_id, call.prompt_language, "")


def play_all(call: Call, prompt_ids: Sequence[str], *, interruptible: bool) -> None:
    """Play prompts; a key pressed during an interruptible one stops them and answers the next
    question (type-ahead)."""
    escape = ALL_KEYS if interruptible else ""
    for prompt_id in prompt_ids:
        key = call.ports.prompter.play(prompt_id, call.prompt_language, escape)
        if key is not None:
            call.state.pending_key = key
            return


def ask(call: Call, prompts: Sequence[str], timeout_ms: int, phrases: Sequence[str] = (), *,
        languages: Sequence[str] = (), stream: bool = False) -> Heard | None:
    """Play prompts with keys live, then wait for a key (or words in `languages`).
    A key pressed during an earlier announcement answers at once. Streaming, the listener
    plays the prompts so that the caller can talk over them."""
    typed_ahead = take_typed_ahead(call)
    if typed_ahead is not None:
        return typed_ahead
    listener = call.ports.listener
    if stream and languages and listener is not None and not call.state.keys_only:
        try:
            return listener.listen(list(languages), list(phrases), timeout_ms, stream=True,
                                   prompts=[(p, call.prompt_language) for p in prompts])
        except SpeechUnavailable as exc:
            _speech_failed(call, exc)
            if exc.heard_audio:
                return Heard(text="")
    for prompt_id in prompts:
        key = call.ports.prompter.play(prompt_id, call.prompt_language, ALL_KEYS)
        if key is not None:
            return Heard(key=key)
    return listen(call, timeout_ms, phrases=phrases, languages=languages)


def ask_language(call: Call, node: schema.LanguageNode) -> Heard | None:
    """Each choice's prompt in its own language, keys live; then free speech, not the choices'
    phrases: a caller who answers "我要挂失" instead of naming a language is still heard, by
    every candidate model."""
    typed_ahead = take_typed_ahead(call)
    if typed_ahead is not None:
        return typed_ahead
    for choice in node.choices:
        for prompt_id in choice.prompt:
            key = call.ports.prompter.play(prompt_id, call.line.prompt_language(choice.language),
                                           ALL_KEYS)
            if key is not None:
                return Heard(key=key)
    return listen(call, node.timeout_ms, phrases=[], languages=speech_languages(call, node))


def listen(call: Call, timeout_ms: int, *, phrases: Sequence[str],
           languages: Sequence[str]) -> Heard | None:
    listener = call.ports.listener
    if languages and listener is not None and not call.state.keys_only:
        try:
            return listener.listen(list(languages), list(phrases), timeout_ms)
        except SpeechUnavailable as exc:
            _speech_failed(call, exc)
            if exc.heard_audio:
                return Heard(text="")  # they spoke: reprompt rather than wait in silence
    key = call.ports.channel.wait_for_key(timeout_ms)
    return Heard(key=key) if key is not None else None


@contextmanager
def recording_paused(call: Call) -> Iterator[None]:
    """While the caller keys sensitive digits (card, ID, PIN): their tones never reach the
    compliance recording. Resumed however the block ends, unless the caller hung up."""
    recording = call.ports.recording
    if recording is None:
        yield
        return
    recording.pause()
    call.note(StepKind.RECORDING_PAUSED)
    try:
        yield
    finally:
        try:
            recording.resume()
            call.note(StepKind.RECORDING_RESUMED)
        except CallerHungUp:
            log.debug("call %s: hung up before the recording resumed", call.call_id)


def key_digits(call: Call, prompts: Sequence[str], entry: DigitEntry) -> str | None:
    """A number keyed after `prompts` (keys live over them), as `entry` says; None when the
    caller keyed nothing, "" for the terminator alone. The prompts and every key are one
    channel operation: a key typed between two would be lost."""
    typed_ahead = take_typed_ahead(call)
    prompter = call.ports.prompter
    if typed_ahead is None:
        return prompter.read_digits(prompts, call.prompt_language, entry)
    first = typed_ahead.key or ""
    if first == entry.terminator:
        return ""
    if entry.max_digits <= 1:
        return first
    rest = prompter.read_digits([], call.prompt_language, entry.after_first_key())
    return first + (rest or "")


def accept_speech(call: Call, heard: Heard | None) -> Heard | None:
    """Store what was recognised with the call, and refuse unsure results."""
    if heard is None or heard.text is None:
        return heard
    confident = heard.confidence >= call.line.speech.min_confidence
    call.emit("speech-result", {
        "node": call.node_id, "language": heard.language or call.language,
        "text": heard.text, "confidence": round(heard.confidence, 3),
        "accepted": confident, "interrupted_prompt": heard.interrupted})
    if not confident:
        call.note(StepKind.UNSURE)
        return Heard(text="", confidence=heard.confidence, language=heard.language)
    return heard


def wants_agent(call: Call, heard: Heard) -> bool:
    if heard.key is not None:
        return heard.key == call.line.agent_key
    return bool(heard.text) and any(phrase_matches(heard.text or "", p)
                                    for p in call.line.agent_phrases)


def speech_languages(call: Call, node: schema.MenuNode | schema.LanguageNode) -> list[str]:
    """Languages to listen in at this node: the caller's own (menus) or every detection
    candidate (language nodes); [] for keys only."""
    if call.state.keys_only or call.ports.listener is None:
        return []
    candidates = vocabulary.listening_languages(call.menus, node)
    if isinstance(node, schema.LanguageNode):
        return candidates
    return [call.language] if call.language in candidates else []


def streams(call: Call, node: schema.MenuNode) -> bool:
    return (node.speech or call.line.speech.mode) == "stream"


def take_typed_ahead(call: Call) -> Heard | None:
    """A key pressed during an earlier announcement answers the next question at once."""
    key = call.state.pending_key
    if key is None:
        return None
    call.state.pending_key = None
    return Heard(key=key)


def _speech_failed(call: Call, exc: SpeechUnavailable) -> None:
    call.state.keys_only = True
    call.note(StepKind.SPEECH_UNAVAILABLE)
    log.info("call %s: speech unavailable (%s): keys only", call.call_id, exc)
