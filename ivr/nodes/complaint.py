"""`complaint`: file a ticket for what the caller recorded; its deadlines run from now (the
records layer sets them). No ticket store, or a failing one: the caller goes to an agent.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import logging

from ivr import menu_schema as schema
from ivr.call import TICKET_SLOT, Call, StepKind
from ivr.ports import TicketUnavailable

log = logging.getLogger(__name__)


def handle(node: schema.ComplaintNode, call: Call) -> str:
    state = call.state
    try:
        if call.ports.tickets is None:
            raise TicketUnavailable("no ticket store on this line")
        ticket = call.ports.tickets.issue(call.local_now())
    except TicketUnavailable as exc:
        log.error("call %s: complaint not filed: %s", call.call_id, exc)
        call.note(StepKind.NOT_FILED)
        state.reason = "complaint-not-filed"
        return node.failed or call.line.agent
    call.emit("complaint-filed", {
        "ticket": ticket, "category": node.category or state.intent or "other",
        "language": state.language, "message": state.message, "node": call.node_id,
        "customer_id": state.customer.customer_id if state.customer else None})
    state.slots[TICKET_SLOT] = ticket
    call.note(StepKind.FILED)
    return node.next
