"""One AGI session from connection to outcome, shared by the FastAGI server and classic AGI.

Guarantees: an unknown route, a route that raises or a channel that misbehaves all end with
`IVR_OUTCOME=failed` when the channel still listens (the dialplan then sends the caller to a
human); a hang-up ends the session quietly; nothing here raises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO

from agi import variables
from agi.channel import AgiChannel
from agi.routes import Route
from ivr.errors import CallerHungUp, ChannelError
from ivr.outcomes import Failure, HangUp, Outcome, QueueCall, Verification

log = logging.getLogger(__name__)


class SessionEnd(StrEnum):
    COMPLETED = "completed"  # the route decided and the outcome reached the dialplan
    HUNG_UP = "hung-up"  # the caller left during the session
    FAILED = "failed"  # something broke; the caller was sent to the fallback


@dataclass(frozen=True)
class SessionReport:
    """What happened in one AGI session, for logs, metrics and tests. Holds no PII."""

    call_id: str
    route: str
    end: SessionEnd
    outcome: Outcome | None
    detail: str
    duration_ms: float


_Reporter = Callable[[SessionEnd, Outcome | None, str], SessionReport]


def run_session(reader: TextIO, writer: TextIO, routes: Mapping[str, Route], *,
                on_environment: Callable[[], object] | None = None) -> SessionReport:
    """One session; `on_environment` runs once the AGI environment has arrived (the FastAGI
    server then allows commands their longer deadline)."""
    started = time.monotonic()
    call_id, route_name = "unknown", ""

    def report(end: SessionEnd, outcome: Outcome | None, detail: str) -> SessionReport:
        elapsed_ms = (time.monotonic() - started) * 1000
        # A connection without an AGI environment (a port probe) is not a call.
        level = logging.INFO if route_name else logging.DEBUG
        log.log(level, "call %s route=%s end=%s %s", call_id, route_name or "-", end, detail)
        return SessionReport(call_id, route_name, end, outcome, detail, elapsed_ms)

    try:
        channel = AgiChannel(reader, writer)
    except CallerHungUp as exc:
        return report(SessionEnd.HUNG_UP, None, str(exc))
    except ChannelError as exc:  # garbage before any environment: nobody to answer
        return report(SessionEnd.HUNG_UP, None, f"not an AGI session: {exc}")
    if on_environment is not None:
        on_environment()
    call_id, route_name = channel.call_id, channel.request
    route = routes.get(route_name)
    if route is None:
        return _fail(channel, report, Failure.because("unknown-route"))
    try:
        outcome = route(channel)
        write_outcome(channel, outcome)
    except CallerHungUp as exc:
        return report(SessionEnd.HUNG_UP, None, str(exc))
    except ChannelError as exc:
        return _fail(channel, report, Failure.because("channel-error"), str(exc))
    except Exception:  # noqa: BLE001 - any bug in a route must still land the caller on a human
        log.exception("call %s: route %s raised", call_id, route_name)
        return _fail(channel, report, Failure.because("route-error"))
    return report(SessionEnd.COMPLETED, outcome, outcome.reason)


def write_outcome(channel: AgiChannel, outcome: Outcome) -> None:
    """Hand the outcome to the dialplan. IVR_OUTCOME goes last: the dialplan only trusts the
    other variables once it is set."""
    for name, value in outcome_variables(outcome).items():
        channel.set_variable(name, value)
    channel.set_variable(variables.IVR_OUTCOME, outcome.kind.value)


def outcome_variables(outcome: Outcome) -> dict[str, str]:
    """The channel variables of an outcome, one mapping per type; only what applies is set."""
    summary = outcome.summary
    values: dict[str, str | None] = {
        variables.IVR_REASON: summary.reason,
        variables.IVR_CHOICE: summary.choice or None,
        variables.IVR_INTENT: summary.intent or None,
        variables.IVR_LANGUAGE: summary.language or None,
        variables.IVR_PATH: _path_text(summary.path),
        variables.IVR_CUSTOMER: summary.customer_id or None,
        # Unset means "not verified": one AGI round trip less for the callers never asked.
        variables.IVR_VERIFIED: summary.verification.label()
        if summary.verification != Verification() else None,
        variables.IVR_VERIFY_FAILURES: str(summary.verification.failures)
        if summary.verification.failures else None,
    }
    match outcome:
        case QueueCall(route=route):
            values |= {
                variables.IVR_QUEUE: route.queue,
                variables.IVR_PRIORITY: str(route.priority),
                variables.IVR_MAX_PENALTY: None if route.max_penalty is None
                else str(route.max_penalty),
                variables.IVR_QUEUE_RULE: route.rule or None,
                # Spaces, not commas: commas would split the UserEvent that reports them.
                variables.IVR_SKILLS: " ".join(outcome.skills) or None,
                variables.IVR_CALLBACK: outcome.callback_node or None,
                variables.IVR_LEAVE_TO: outcome.leave_node or None,
                variables.IVR_SERVICE: outcome.service,
                variables.IVR_QUEUE_TIMEOUT: str(outcome.max_wait_s) if outcome.max_wait_s
                else None,
                variables.IVR_NO_AGENT: outcome.no_agent_node or None,
            }
        case HangUp() | Failure():
            pass
    if outcome.callback is not None:
        values |= {variables.IVR_CALLBACK_NUMBER: outcome.callback.number,
                   variables.IVR_CALLBACK_NOW: "yes" if outcome.callback.dial_now else "no"}
    return {name: value for name in _WRITE_ORDER if (value := values.get(name)) is not None}


# The order the variables are written in: stable, so that a strict peer can check it.
_WRITE_ORDER = (variables.IVR_REASON, variables.IVR_QUEUE, variables.IVR_CHOICE,
                variables.IVR_PRIORITY, variables.IVR_SKILLS, variables.IVR_INTENT,
                variables.IVR_LANGUAGE, variables.IVR_PATH, variables.IVR_CUSTOMER,
                variables.IVR_MAX_PENALTY, variables.IVR_QUEUE_RULE, variables.IVR_CALLBACK,
                variables.IVR_LEAVE_TO, variables.IVR_CALLBACK_NUMBER,
                variables.IVR_CALLBACK_NOW, variables.IVR_VERIFIED,
                variables.IVR_VERIFY_FAILURES, variables.IVR_SERVICE,
                variables.IVR_QUEUE_TIMEOUT, variables.IVR_NO_AGENT)


PATH_MAX_CHARS = 400  # keeps the variable (and the agent's screen) readable


def _path_text(path: tuple[str, ...]) -> str | None:
    if not path:
        return None
    text = ">".join(path)
    return text if len(text) <= PATH_MAX_CHARS else "…" + text[-PATH_MAX_CHARS:]


def _fail(channel: AgiChannel, report: _Reporter, outcome: Outcome,
          detail: str = "") -> SessionReport:
    """Best effort to tell the dialplan; if even that fails, an unset IVR_OUTCOME already
    sends the caller to the fallback context."""
    try:
        write_outcome(channel, outcome)
    except (CallerHungUp, ChannelError, ValueError) as exc:
        log.warning("call %s: could not report failure to the dialplan: %s",
                    channel.call_id, type(exc).__name__)
    return report(SessionEnd.FAILED, outcome, f"{outcome.reason} {detail}".strip())
