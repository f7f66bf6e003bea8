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
    if node.reads_account() and not call.state.verification.verified:
        # The validator keeps such paths out of served menus; this is the second lock.
        call.note(StepKind.NOT_VERIFIED)
        return node.missing or node.next
    speaks = call.prompt_language
    if speaks not in call.menus.figure_languages:
        asking.play_all(call, node.fallback_prompt or [], interruptible=node.interruptible)
        return node.next
    sequence = spoken_parts(call, node.parts)
    if sequence is None:
        return node.missing or node.next
    asking.play_all(call, sequence, interruptible=node.interruptible)
    return node.next


def spoken_parts(call: Call, parts: list[schema.SayPart]) -> list[str] | None:
    """The prompt and figure fragments of `parts` in the caller's prompt language; None (and
    noted) when a value is unknown or unreadable: a wrong figure is never read out."""
    sequence: list[str] = []
    for part in parts:
        if part.prompt is not None:
            sequence.append(part.prompt)
            continue
        how, reference = part.value or ("", "")
        raw = value_of(reference, call)
        try:
            sequence += spoken.value_fragments(how, raw or "", call.prompt_language)
        except ValueError:
            call.note(StepKind.VALUE_UNKNOWN, reference)
            return None
    return sequence


def value_of(reference: str, call: Call) -> str | None:
    """`customer.<attribute>` or `slot.<name>` as text; None when unknown."""
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
