"""`callback`: book a call back to this number or one the caller keys in, read back digit by
digit and confirmed, at the earliest time the line may call (never in the quiet hours, only
in its callback business hours, never on its holidays: ivr.scheduling).

Numbers are checked as Chinese mobile or fixed-line numbers (phonenumbers) and stored in the
form the line dials them. The number is personal data: it goes to the booking event and the
dialplan, never to the call's path or steps.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking, spoken
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.outcomes import BookedCallback
from ivr.phone import dialable
from ivr.ports import DigitEntry
from ivr.scheduling import NoOpening, earliest_contact

THIS_NUMBER_KEY = "1"
OTHER_NUMBER_KEY = "2"
CONFIRM_KEY = "1"
NUMBER_MAX_LENGTH = 15
NEXT_KEY_TIMEOUT_MS = 3000
# A queue node names where its callback goes; the no-agent node's callback (queue unset)
# goes where the caller was waiting, else here.
DEFAULT_QUEUE = "general"


def handle(node: schema.CallbackNode, call: Call) -> str:
    number = _number(node, call)
    if number is None:
        call.state.reason = "callback-not-booked"
        return node.fallback or call.line.exhausted
    now = call.ports.clock.now()
    try:
        not_before = earliest_contact(now, call.line)
    except NoOpening:
        call.note(StepKind.NO_NUMBER)
        call.state.reason = "callback-no-opening"
        return node.fallback or call.line.exhausted
    queue = node.queue or call.state.waited_for or DEFAULT_QUEUE
    call.emit("callback-requested", {
        "queue": queue, "number": number, "language": call.language,
        "intent": call.state.intent, "node": call.node_id,
        "not_before": not_before.isoformat(timespec="minutes")})
    call.note(StepKind.CALLBACK_BOOKED)
    call.state.callback = BookedCallback(number=number, dial_now=not_before <= now)
    asking.announce(call, node.done_prompt)
    return node.next


def _number(node: schema.CallbackNode, call: Call) -> str | None:
    caller = dialable(call.state.caller_number or "")
    choice: str | None = None
    for _attempt in range(node.attempts):
        if choice is None:
            heard = asking.ask(call, list(node.prompt), node.timeout_ms)
            choice = heard.key if heard is not None else None
            if choice not in (THIS_NUMBER_KEY, OTHER_NUMBER_KEY):
                choice = None
                continue
        number = caller if choice == THIS_NUMBER_KEY and caller else _enter_number(node,
                                                                                    call)
        if number is None:
            choice = None
            continue
        answer = _read_back(node, call, number)
        if answer == CONFIRM_KEY:
            return number
        choice = OTHER_NUMBER_KEY if answer == OTHER_NUMBER_KEY else None
    call.note(StepKind.NO_NUMBER)
    return None


def _enter_number(node: schema.CallbackNode, call: Call) -> str | None:
    lead: list[str] = []
    for _attempt in range(node.attempts):
        digits = asking.key_digits(call, [*lead, *node.number_prompt],
                                   DigitEntry(NUMBER_MAX_LENGTH, node.timeout_ms,
                                              NEXT_KEY_TIMEOUT_MS))
        if digits is None:
            return None
        number = dialable(digits)
        if number is not None:
            return number
        call.note(StepKind.INVALID_ENTRY)
        lead = [node.invalid_prompt]
    return None


def _read_back(node: schema.CallbackNode, call: Call, number: str) -> str | None:
    """The number read back digit by digit (where the catalog has the digits); the key the
    caller answers with (1 confirms, 2 gives another number)."""
    speaks = call.prompt_language
    digits = (spoken.digit_string(number, speaks)
              if speaks in call.menus.digit_languages else [])
    heard = asking.ask(call, [node.read_back_prompt, *digits, node.confirm_prompt],
                       node.timeout_ms)
    return heard.key if heard is not None else None
