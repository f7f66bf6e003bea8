"""The menu interpreter: walks a caller through a `MenuSet` and returns an `Outcome`.

A loop over the node registry (ivr.nodes): each node's handler returns the next node or the
call's outcome. Driven only through ports (ivr.call.Ports), so the same code serves real
calls, the terminal simulator and the transcript tests. Never loops forever: menus reprompt,
offer an agent on the last attempt, then send the caller to the line's `exhausted` node; a
step limit catches anything else.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import logging

from ivr.call import Call, CallState, Ports, StepKind, Waited
from ivr.errors import CallerHungUp
from ivr.menu_loader import MenuSet
from ivr.nodes import REGISTRY
from ivr.outcomes import Outcome, QueueCall
from ivr.ports import Channel

log = logging.getLogger(__name__)

__all__ = ["Ports", "Waited", "run_menus"]


def run_menus(menus: MenuSet, ports: Ports, start: str | None = None,
              language: str | None = None, waited: Waited | None = None) -> Outcome:
    """Walk the menus from the line's entry (or from `start`, in `language`: a caller
    coming back from a queue, where they `waited`, to book a callback or choose again)."""
    state = CallState(language=language or menus.line.default_language,
                      caller_number=_caller_number(ports.channel))
    if waited is not None:
        state.waited_for, state.intent = waited.queue, waited.intent
    call = Call(menus, ports, state)
    outcome: Outcome | None = None
    try:
        outcome = _walk(call, start or menus.line.entry)
        return outcome
    except CallerHungUp:
        call.note(StepKind.CALLER_HUNG_UP, of_call=True)
        raise
    finally:
        _emit_summary(call, outcome)


def _walk(call: Call, node_id: str) -> Outcome:
    menus = call.menus
    for _step in range(menus.line.max_steps):
        node = menus.nodes[node_id]
        call.state.path.append(node_id)
        call.node_id = node_id
        result = REGISTRY[node.kind].handle(node, call)
        if menus.line.recording_disclosure_prompt in node.plays():
            _start_recording(call)
        if not isinstance(result, str):
            return result
        node_id = result
    log.warning("call %s: step limit %d reached at %s", call.call_id, menus.line.max_steps,
                node_id)
    return call.failure("step-limit")


def _start_recording(call: Call) -> None:
    # Only now has the caller been told: the recording starts after the disclosure.
    if call.ports.recording is not None:
        call.ports.recording.start()
        call.note(StepKind.RECORDING_STARTED, of_call=True)


def _emit_summary(call: Call, outcome: Outcome | None) -> None:
    state = call.state
    call.emit("ivr-finished", {
        "menu_version": call.menus.version, "language": state.language,
        "path": list(state.path), "events": [step.text() for step in state.steps],
        "outcome": outcome.kind.value if outcome else "hung-up",
        "queue": outcome.service if isinstance(outcome, QueueCall) else None,
        "intent": state.intent,
        "customer_id": state.customer.customer_id if state.customer else None,
        "verified": state.verification.label(),
        "verify_failures": state.verification.failures})


def _caller_number(channel: Channel) -> str | None:
    number = channel.get_variable("CALLERID(num)")
    return number if number and number.isdigit() else None
