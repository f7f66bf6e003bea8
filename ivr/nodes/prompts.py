"""Nodes that only speak or move on: `play`, `say` (figures read aloud from catalog
fragments), `goto` and `hangup`.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking, spoken
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.outcomes import HangUp


def play(node: schema.PlayNode, call: Call) -> str:
    asking.play_all(call, node.prompt, interruptible=node.interruptible)
    return node.next


def say(node: schema.SayNode, call: Call) -> str:
    speaks = call.prompt_language
    if speaks not in call.menus.figure_languages:
        asking.play_all(call, node.fallback_prompt or [], interruptible=node.interruptible)
        return node.next
    sequence: list[str] = []
    for part in node.parts:
        if part.prompt is not None:
            sequence.append(part.prompt)
            continue
        how, reference = part.value or ("", "")
        raw = _value(reference, call)
        try:
            sequence += spoken.value_fragments(how, raw or "", speaks)
        except ValueError:
            # Unknown or unreadable: never read out a wrong figure.
            call.note(StepKind.VALUE_UNKNOWN, reference)
            return node.missing or node.next
    asking.play_all(call, sequence, interruptible=node.interruptible)
    return node.next


def _value(reference: str, call: Call) -> str | None:
    source, _, name = reference.partition(".")
    if source == "slot":
        return call.state.slots.get(name)
    customer = call.state.customer
    if customer is None:
        return None
    value = customer.attributes.get(name)
    return None if value is None or isinstance(value, bool) else str(value)


def goto(node: schema.GotoNode, call: Call) -> str:
    return node.goto


def hangup(node: schema.HangupNode, call: Call) -> HangUp:
    asking.announce(call, node.prompt or [])
    return call.hang_up(node.reason)
