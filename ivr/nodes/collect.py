"""`collect`: a digit string (card, account, ID, PIN) with length and check-digit rules.
Sensitive digits pause the compliance recording so their tones never reach it, and only
their count is ever noted.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.matching import CHECKS
from ivr.ports import DigitEntry


def handle(node: schema.CollectNode, call: Call) -> str:
    if not node.sensitive:
        return _collect(node, call)
    with asking.recording_paused(call):
        return _collect(node, call)


def _collect(node: schema.CollectNode, call: Call) -> str:
    entry = DigitEntry(node.max_length, node.first_key_timeout_ms, node.next_key_timeout_ms,
                       node.terminator)
    lead: list[str] = []
    for _attempt in range(node.attempts):
        digits = asking.key_digits(call, [*lead, *node.prompt], entry)
        if digits is None:
            call.note(StepKind.NO_INPUT)
            lead = list(node.no_input_prompt or call.line.no_input_prompt)
            continue
        if digits_valid(node.check, node.min_length, node.max_length, digits):
            call.state.slots[node.slot] = digits
            call.note(StepKind.DIGITS, len(digits))
            return node.next
        call.note(StepKind.INVALID_ENTRY)
        lead = list(node.invalid_prompt or call.line.no_match_prompt)
    call.state.reason = "collect-attempts-exhausted"
    return node.fallback or call.line.exhausted


def digits_valid(check: str, min_length: int, max_length: int, digits: str) -> bool:
    # '*' stands for the X check character of a resident ID; elsewhere only digits count.
    plain = digits[:-1] + digits[-1:].replace("*", "0") if check == "cn_id" else digits
    return (min_length <= len(digits) <= max_length and plain.isdigit()
            and CHECKS[check](digits))
