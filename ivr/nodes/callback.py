"""`callback`: book a call back to this number or one the caller keys in, at the earliest
time the contact rules allow (never in the quiet hours).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.contact_policy import earliest_call
from ivr.nodes.collect import digits_valid
from ivr.outcomes import BookedCallback

THIS_NUMBER_KEY = "1"
OTHER_NUMBER_KEY = "2"
NUMBER_MIN_LENGTH = 5  # short internal extensions up to international numbers
NUMBER_MAX_LENGTH = 15
NEXT_KEY_TIMEOUT_MS = 3000


def handle(node: schema.CallbackNode, call: Call) -> str:
    number = _number(node, call)
    if number is None:
        call.state.reason = "callback-not-booked"
        return node.fallback or call.line.exhausted
    now = call.ports.clock.now()
    not_before = earliest_call(now, call.line.contact)
    call.emit("callback-requested", {
        "queue": node.queue, "number": number, "language": call.language,
        "intent": call.state.intent, "node": call.node_id,
        "not_before": not_before.isoformat(timespec="minutes")})
    call.note(StepKind.CALLBACK_BOOKED)
    call.state.callback = BookedCallback(number=number, dial_now=not_before <= now)
    asking.announce(call, node.done_prompt)
    return node.next


def _number(node: schema.CallbackNode, call: Call) -> str | None:
    caller = call.state.caller_number or ""
    for _attempt in range(node.attempts):
        heard = asking.ask(call, list(node.prompt), node.timeout_ms)
        if heard is None or heard.key is None:
            continue
        if heard.key == THIS_NUMBER_KEY and caller.isdigit() and len(caller) >= 5:
            return caller
        if heard.key in (THIS_NUMBER_KEY, OTHER_NUMBER_KEY):
            entered = _enter_number(node, call)
            if entered is not None:
                return entered
    call.note(StepKind.NO_NUMBER)
    return None


def _enter_number(node: schema.CallbackNode, call: Call) -> str | None:
    heard = asking.ask(call, list(node.number_prompt), node.timeout_ms)
    if heard is None or heard.key is None:
        return None
    digits = asking.read_digits(call, heard.key, "#", NUMBER_MAX_LENGTH, NEXT_KEY_TIMEOUT_MS)
    valid = digits_valid("none", NUMBER_MIN_LENGTH, NUMBER_MAX_LENGTH, digits)
    return digits if valid else None
