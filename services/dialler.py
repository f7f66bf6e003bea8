"""The callback dialler: dials booked callbacks when they are due — those booked in the quiet
hours, from menus outside a queue, or to be tried again — within the line's calling windows
and daily attempt cap per number, inside the line's callback business hours and never on its
holidays (ivr.scheduling), counting every attempt logged.

A due callback is dialled the way a caller who left a queue is: a placeholder waits in the
queue for the caller's language ([hotline-virtual-hold]) and the customer is dialled only
once an agent has answered it, so no customer answers to silence. The attempt's result comes
back as a call event (db/records.py) and decides what happens next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agi import variables as names
from db.database import sessions
from db.models import Callback, CallbackAttempt, CallbackStatus
from ivr.agents import Agent, SkillRouter
from ivr.contact_policy import Decision
from ivr.menu_loader import MenuSet
from ivr.outcomes import QueueRoute
from ivr.ports import Clock
from ivr.scheduling import NoOpening, may_dial
from pbx.ami import Ami, AmiError

log = logging.getLogger(__name__)

# A callback booked for "now" belongs to the dialplan first (the caller left a queue keeping
# their place): the dialler leaves it alone this long, until the placeholder is recorded.
HANDOVER_GRACE = timedelta(seconds=30)
CALLBACK_PRIORITY = 5  # ahead of routine calls, behind lost cards


@dataclass(frozen=True)
class DialRequest:
    """What the placeholder needs (channel variables of [hotline-virtual-hold])."""

    call_id: str  # the call that booked the callback
    number: str = field(repr=False)
    route: QueueRoute  # where the placeholder waits for an agent
    intent: str
    language: str


Originate = Callable[[DialRequest], None]  # raises on failure


@dataclass
class DialRound:
    dialled: int = 0
    deferred: int = 0  # quiet hours or daily cap: not_before moved
    failed: int = 0


class CallbackDialler:
    def __init__(self, engine: Engine, menus: Callable[[], MenuSet | None],
                 agents: list[Agent], originate: Originate, clock: Clock) -> None:
        self.sessions = sessions(engine)
        self.menus = menus
        self.agents = agents
        self.originate = originate
        self.clock = clock

    def dial_due(self) -> DialRound:
        round_ = DialRound()
        menus = self.menus()
        if menus is None:
            log.error("no valid menus: callbacks are not dialled until they load")
            return round_
        now = self.clock.now().astimezone(UTC)
        with self.sessions() as session, session.begin():
            due = session.scalars(select(Callback).where(
                Callback.status == CallbackStatus.BOOKED, Callback.not_before <= now,
                Callback.booked_at <= now - HANDOVER_GRACE).order_by(Callback.not_before)
                .with_for_update(skip_locked=True)).all()
            for callback in due:
                self._dial(session, callback, menus, now, round_)
        return round_

    def _dial(self, session: Session, callback: Callback, menus: MenuSet, now: datetime,
              round_: DialRound) -> None:
        attempts = list(session.scalars(
            select(CallbackAttempt.at).join(Callback)
            .where(Callback.number == callback.number,
                   CallbackAttempt.at >= now - timedelta(days=2))).all())
        try:
            decision = may_dial(now, attempts, menus.line)
        except NoOpening as exc:
            log.error("callback %d not dialled: %s", callback.id, exc)
            decision = Decision(False, now + timedelta(days=1), "no opening")
        if not decision.allowed:
            callback.not_before = decision.not_before.astimezone(UTC)
            callback.updated_at = now
            round_.deferred += 1
            log.info("callback %d deferred to %s: %s", callback.id,
                     callback.not_before.isoformat(timespec="minutes"), decision.reason)
            return
        route = SkillRouter.for_menus(menus, self.agents).route(
            callback.queue, callback.language, CALLBACK_PRIORITY)
        request = DialRequest(call_id=callback.call_id, number=callback.number, route=route,
                              intent=callback.intent or "callback",
                              language=callback.language)
        try:
            self.originate(request)
        except (OSError, RuntimeError) as exc:
            round_.failed += 1
            log.error("callback %d: could not start the placeholder (%s); trying next round",
                      callback.id, exc)
            return
        callback.status = CallbackStatus.DIALLING
        callback.updated_at = now
        round_.dialled += 1
        log.info("callback %d: waiting for an agent in %s", callback.id, route.queue)


def ami_originate(connect: Callable[[], Ami]) -> Originate:
    """Start the placeholder through AMI (a connection per round keeps no state to lose)."""

    def originate(request: DialRequest) -> None:
        route = request.route
        values = {names.HOLD_QUEUE: route.queue, names.HOLD_PRIO: str(route.priority),
                  names.HOLD_POSITION: "", names.HOLD_RULE: route.rule,
                  names.HOLD_MAX_PENALTY: "" if route.max_penalty is None
                  else str(route.max_penalty),
                  names.CALLBACK_NUMBER: request.number, names.HOLD_FOR: request.call_id,
                  names.HOLD_INTENT: request.intent, names.HOLD_LANGUAGE: request.language}
        try:
            with connect() as ami:
                ami.action("Originate", Channel="Local/s@hotline-virtual-hold",
                           Context="hotline-callback-dial", Exten="s", Priority="1",
                           Async="true", Timeout="3600000",
                           Variable=[f"__{name}={value}" for name, value in values.items()])
        except AmiError as exc:
            raise RuntimeError(f"AMI: {exc}") from exc

    return originate
