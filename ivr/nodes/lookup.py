"""`lookup`: find the customer by calling number or a collected slot; a directory that is
down is not the caller's problem (they go on as not found, or to `unavailable`).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.outcomes import Verification
from ivr.ports import DirectoryUnavailable


def handle(node: schema.LookupNode, call: Call) -> str:
    state = call.state
    value = state.caller_number if node.by == "caller_number" else state.slots.get(
        node.slot or "")
    if not value:
        call.note(StepKind.NOTHING_TO_LOOK_UP)
        return node.not_found
    try:
        customer = call.ports.directory.find_customer(node.by, value)
    except DirectoryUnavailable:
        call.note(StepKind.DIRECTORY_UNAVAILABLE)
        return node.unavailable or node.not_found
    if customer is None:
        call.note(StepKind.NOT_FOUND)
        return node.not_found
    if state.customer is None or state.customer.customer_id != customer.customer_id:
        state.verification = Verification()  # proof was for someone else
    state.customer = customer
    call.note(StepKind.FOUND)
    return node.found
