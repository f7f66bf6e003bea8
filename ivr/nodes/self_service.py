"""Self-service that finishes the job for a verified caller, through the AccountServices port:
`freeze_card` (lost or stolen), `promise` (a promise to pay, by keys) and `ticket_status`.

Each refuses an unverified caller (the validator already keeps them off such paths) and sends
the caller to `failed` — an agent — whenever the action cannot be carried out.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from datetime import date, timedelta

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.nodes.prompts import spoken_parts, value_of
from ivr.ports import AccountServices, DigitEntry, ServiceUnavailable

CONFIRM_KEY = "1"
AGAIN_KEY = "2"
PAY_BY_SLOT = "pay_by"
DATE_KEYS = 4  # MMDD


def _services(call: Call) -> tuple[str, AccountServices] | None:
    customer_id = call.verified_customer
    if customer_id is None:
        call.note(StepKind.NOT_VERIFIED)
        return None
    if call.ports.accounts is None:
        call.note(StepKind.SERVICE_UNAVAILABLE)
        return None
    return customer_id, call.ports.accounts


def freeze_card(node: schema.FreezeCardNode, call: Call) -> str:
    found = _services(call)
    if found is None:
        return node.failed
    customer_id, accounts = found
    try:
        frozen = accounts.freeze_cards(customer_id, call_id=call.call_id,
                                       now=call.ports.clock.now())
    except ServiceUnavailable:
        call.note(StepKind.SERVICE_UNAVAILABLE)
        call.state.reason = "freeze-unavailable"
        return node.failed
    call.note(StepKind.CARDS_FROZEN, frozen)
    call.emit("cards-frozen", {"customer_id": customer_id, "cards": frozen})
    asking.announce(call, node.done_prompt)
    return node.next


def promise(node: schema.PromiseNode, call: Call) -> str:
    found = _services(call)
    if found is None:
        return node.failed
    customer_id, accounts = found
    amount = value_of(node.amount, call)
    if not amount or call.prompt_language not in call.menus.figure_languages:
        call.note(StepKind.VALUE_UNKNOWN, node.amount)
        return node.failed
    today = call.local_now().date()
    lead: list[str] = []
    for _attempt in range(node.attempts):
        keyed = asking.key_digits(call, [*lead, *node.prompt],
                                  DigitEntry(DATE_KEYS, node.timeout_ms))
        if keyed is None:
            call.note(StepKind.NO_INPUT)
            lead = list(call.line.no_input_prompt)
            continue
        pay_by = promised_date(keyed, today, node.max_days)
        if pay_by is None:
            call.note(StepKind.INVALID_ENTRY)
            lead = list(node.invalid_prompt)
            continue
        call.state.slots[PAY_BY_SLOT] = pay_by.isoformat()
        read_back = spoken_parts(call, node.confirm)
        if read_back is None:
            return node.failed
        heard = asking.ask(call, read_back, node.timeout_ms)
        if heard is None or heard.key != CONFIRM_KEY:
            lead = []
            continue
        try:
            accounts.promise_to_pay(customer_id, amount, pay_by, call_id=call.call_id,
                                    now=call.ports.clock.now())
        except ServiceUnavailable:
            call.note(StepKind.SERVICE_UNAVAILABLE)
            call.state.reason = "promise-unavailable"
            return node.failed
        call.note(StepKind.PROMISED)
        asking.announce(call, node.done_prompt)
        return node.next
    call.state.reason = "no-promise"
    return node.failed


def promised_date(keys: str, today: date, max_days: int) -> date | None:
    """MMDD as the next such date from today (December's caller may promise for January);
    None unless it lies between today and `max_days` from now."""
    if len(keys) != DATE_KEYS or not keys.isdigit():
        return None
    month, day = int(keys[:2]), int(keys[2:])
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate if candidate <= today + timedelta(days=max_days) else None
    return None


def ticket_status(node: schema.TicketStatusNode, call: Call) -> str:
    found = _services(call)
    if found is None:
        return node.failed
    customer_id, accounts = found
    number = call.state.slots.get(node.slot, "")
    try:
        ticket = accounts.ticket(customer_id, number) if number else None
    except ServiceUnavailable:
        call.note(StepKind.SERVICE_UNAVAILABLE)
        call.state.reason = "tickets-unavailable"
        return node.failed
    if ticket is None:
        call.note(StepKind.TICKET_NOT_FOUND)
        asking.announce(call, node.not_found_prompt)
        return node.not_found or node.next
    call.note(StepKind.TICKET_STATUS, ticket.status)
    asking.announce(call, node.statuses.get(ticket.status, node.other_prompt))
    return node.next
