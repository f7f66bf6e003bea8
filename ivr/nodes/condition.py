"""`condition`: the first rule that holds (business hours, time of day, language, what the
lookup found, slots) decides where the call goes.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import menu_schema as schema
from ivr.calendar import is_open, time_between
from ivr.call import Call, StepKind


def handle(node: schema.ConditionNode, call: Call) -> str:
    for index, rule in enumerate(node.rules):
        if rule.reads_account() and not call.state.verification.verified:
            # The validator keeps such paths out of served menus; this is the second lock.
            call.note(StepKind.NOT_VERIFIED)
            continue
        if holds(rule.when, call):
            call.note(StepKind.RULE, index + 1)
            return rule.goto
    call.note(StepKind.OTHERWISE)
    return node.otherwise


def holds(check: schema.Check, call: Call) -> bool:
    now = call.local_now()
    hours = call.line.business_hours
    state = call.state
    attributes = state.customer.attributes if state.customer else {}
    tests = [
        check.open is None or is_open(hours[check.open], now),
        check.closed is None or not is_open(hours[check.closed], now),
        check.time_between is None or time_between(now, *check.time_between),
        check.customer_known is None or check.customer_known == (state.customer is not None),
        check.customer is None or all(attributes.get(k) == v
                                      for k, v in check.customer.items()),
        check.customer_at_least is None or all(
            _number(attributes.get(k)) >= v for k, v in check.customer_at_least.items()),
        check.language is None or state.language in check.language,
        check.slot_set is None or check.slot_set in state.slots,
    ]
    return all(tests)


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
