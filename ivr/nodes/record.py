"""`record`: a complaint description or a message, recorded after its prompts; optionally
transcribed (stored with the call, never logged: it describes the caller's affairs).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import logging

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.ports import SpeechUnavailable

log = logging.getLogger(__name__)


def handle(node: schema.RecordNode, call: Call) -> str:
    asking.announce(call, node.prompt)
    message = call.ports.recorder.record_message(node.purpose, node.max_duration_s,
                                                 node.silence_s)
    if message is None:
        call.note(StepKind.NOTHING_RECORDED)
        return node.on_empty or node.next
    call.emit("message-recorded", {"purpose": node.purpose, "reference": message.reference,
                                   "duration_ms": message.duration_ms, "node": call.node_id})
    call.note(StepKind.RECORDED, message.duration_ms)
    call.state.message = message.reference
    if node.transcribe:
        _transcribe(call, message.reference)
    return node.next


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
