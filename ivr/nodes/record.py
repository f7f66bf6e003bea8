"""`record`: a complaint description or a message, recorded after its prompts; optionally
transcribed (stored with the call, never logged: it describes the caller's affairs).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import logging

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.errors import HungUpAfterMessage
from ivr.phone import dialable
from ivr.ports import RecordedMessage, SpeechUnavailable

log = logging.getLogger(__name__)


def handle(node: schema.RecordNode, call: Call) -> str:
    asking.announce(call, node.prompt)
    try:
        message = call.ports.recorder.record_message(node.purpose, node.max_duration_s,
                                                     node.silence_s)
    except HungUpAfterMessage as left:  # hanging up ends a message: it is kept
        _recorded(node, call, RecordedMessage(left.reference, left.duration_ms), "hang-up")
        raise
    if message is None:
        call.note(StepKind.NOTHING_RECORDED)
        return node.on_empty or node.next
    _recorded(node, call, message, "silence")
    call.state.message = message.reference
    if node.transcribe:
        _transcribe(call, message.reference)
    return node.next


def _recorded(node: schema.RecordNode, call: Call, message: RecordedMessage,
              ended_by: str) -> None:
    # A message is answered on the caller's number (a follow-up, for the queue they waited
    # in): personal data for the call record, never for the path or the logs.
    call.emit("message-recorded", {
        "purpose": node.purpose, "reference": message.reference,
        "duration_ms": message.duration_ms, "node": call.node_id, "ended_by": ended_by,
        "queue": call.state.waited_for or None, "language": call.language,
        "intent": call.state.intent or None,
        "reply_to": dialable(call.state.caller_number or "")})
    call.note(StepKind.RECORDED, message.duration_ms)


def _transcribe(call: Call, reference: str) -> None:
    listener = call.ports.listener
    if listener is None or call.language not in call.line.speech.languages:
        return
    try:
        text = listener.transcribe(reference, call.language)
    except SpeechUnavailable as exc:
        call.note(StepKind.NOT_TRANSCRIBED)
        log.info("call %s: message not transcribed: %s", call.call_id, exc)
        return
    call.emit("message-transcribed", {"node": call.node_id, "reference": reference,
                                      "language": call.language, "text": text or ""})
