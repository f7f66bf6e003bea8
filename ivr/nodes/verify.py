"""`verify`: the caller proves to be the customer the lookup found, by PIN or by the tails of
their resident ID and card, before anything about an account is said or done.

The digits are keyed with the recording paused, go to the verifier once and are forgotten:
never noted, emitted or logged. Wrong secrets count across calls (the verifier stores them);
a locked customer is told so and handed on.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import replace

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.ports import DigitEntry, VerificationStatus, Verifier, VerifierUnavailable
from ivr.verification import (
    CARD_TAIL_LENGTH,
    ID_TAIL_LENGTH,
    PIN_LENGTH,
    Method,
    well_formed,
)


def handle(node: schema.VerifyNode, call: Call) -> str:
    state = call.state
    if state.verification.verified and state.customer is not None:
        return node.verified  # once per call is enough
    verifier = call.ports.verifier
    if state.customer is None:
        call.note(StepKind.NOT_IDENTIFIED)
        return node.not_identified or node.failed
    if verifier is None:
        call.note(StepKind.VERIFIER_UNAVAILABLE)
        state.reason = "verify-unavailable"
        return node.failed
    try:
        return _verify(node, call, verifier, state.customer.customer_id)
    except VerifierUnavailable:
        call.note(StepKind.VERIFIER_UNAVAILABLE)
        state.reason = "verify-unavailable"
        return node.failed


def _verify(node: schema.VerifyNode, call: Call, verifier: Verifier, customer_id: str) -> str:
    settings = call.line.verification
    status = verifier.status(customer_id, call.ports.clock.now())
    if status.locked(call.ports.clock.now()):
        return _locked(node, call)
    methods = node.methods or settings.methods
    method = next((m for m in methods if m in status.enrolled), None)
    if method is None:
        call.note(StepKind.NOT_ENROLLED)
        return node.failed
    lead: list[str] = []
    for _try in range(settings.max_failures):
        with asking.recording_paused(call):
            secret = _key_secret(node, call, method, lead)
        if secret is None:
            call.note(StepKind.NO_INPUT)
            lead = list(call.line.no_input_prompt)
            continue
        status = verifier.attempt(customer_id, method, secret, call_id=call.call_id,
                                  now=call.ports.clock.now(),
                                  max_failures=settings.max_failures,
                                  lock_minutes=settings.lock_minutes)
        if status.failures == 0 and not status.locked(call.ports.clock.now()):
            call.state.verification = replace(call.state.verification, method=method)
            call.note(StepKind.VERIFIED, method)
            asking.announce(call, [node.verified_prompt])
            return node.verified
        _count_failure(call, status)
        if status.locked(call.ports.clock.now()):
            return _locked(node, call)
        lead = [node.wrong_prompt]
    call.state.reason = "verify-failed"
    return node.failed


def _key_secret(node: schema.VerifyNode, call: Call, method: str,
                lead: list[str]) -> str | None:
    """The secret as keyed; None when the caller keyed nothing, "" when too few keys (a
    wrong secret like any other)."""
    timeout = call.line.verification.timeout_ms
    if method == Method.PIN:
        secret = asking.key_digits(call, [*lead, node.pin_prompt],
                                   DigitEntry(PIN_LENGTH, timeout))
    else:
        id_tail = asking.key_digits(call, [*lead, node.id_prompt],
                                    DigitEntry(ID_TAIL_LENGTH, timeout))
        card_tail = (asking.key_digits(call, [node.card_prompt],
                                       DigitEntry(CARD_TAIL_LENGTH, timeout))
                     if id_tail is not None else None)
        secret = id_tail + card_tail if id_tail is not None and card_tail is not None else None
    if secret is None:
        return None
    return secret if well_formed(method, secret) else ""


def _count_failure(call: Call, status: VerificationStatus) -> None:
    verification = call.state.verification
    call.state.verification = replace(verification, failures=verification.failures + 1)
    call.note(StepKind.WRONG_SECRET, status.failures)


def _locked(node: schema.VerifyNode, call: Call) -> str:
    call.state.verification = replace(call.state.verification, locked=True)
    call.note(StepKind.VERIFY_LOCKED)
    call.state.reason = "verify-locked"
    asking.announce(call, [node.locked_prompt])
    return node.failed
