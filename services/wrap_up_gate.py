"""Holding desk agents for wrap-up: when an agent's call ends, the agent is paused in every
queue ("wrap-up") so that no new call is offered until they save the call's wrap-up at the
console desk, or until `routing.wrap_up_limit_s` runs out; then they are ready again.

Only agents who work at the desk (a console user bound to their agent id) are held; agents
on desk phones alone keep Asterisk's own short `wrapuptime`. An agent who paused for another
reason meanwhile (a break) stays paused: only the gate's own pause is lifted by the gate.
Runs in the records service's loop, right after the spool is applied.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.database import sessions
from db.models import AgentOffer, AgentPresence, ConsoleUser, WrapUp
from pbx.presence import WRAP_UP_REASON, PresenceControl, PresenceError, presence_of

log = logging.getLogger(__name__)
GATE = "wrap-up-gate"  # who the presence log says changed it
LOOK_BACK = timedelta(hours=1)  # calls ended longer ago than this are never held


class WrapUpGate:
    def __init__(self, engine: Engine, presence: PresenceControl, limit_s: int) -> None:
        self.sessions = sessions(engine)
        self.presence = presence
        self.limit = timedelta(seconds=limit_s)

    def step(self, now: datetime) -> None:
        if not self.limit:
            return
        try:
            with self.sessions() as session, session.begin():
                desk_agents = [a for a in session.scalars(select(ConsoleUser.agent_id).where(
                    ConsoleUser.agent_id.is_not(None), ConsoleUser.disabled.is_(False)))
                    if a in self.presence.agents]
                for agent in desk_agents:
                    self._agent(session, agent, now)
        except PresenceError as exc:
            log.warning("wrap-up gate: %s", exc)

    def _agent(self, session: Session, agent: str, now: datetime) -> None:
        offer = session.scalar(select(AgentOffer).where(
            AgentOffer.agent == agent, AgentOffer.status == "completed",
            AgentOffer.completed_at.is_not(None),
            AgentOffer.completed_at >= now - LOOK_BACK)
            .order_by(AgentOffer.completed_at.desc()).limit(1))
        if offer is None or offer.completed_at is None:
            return
        current = presence_of(session, [agent])[agent]
        held = current.state == "paused" and current.reason == WRAP_UP_REASON
        wrapped = session.scalar(select(WrapUp.id).where(
            WrapUp.call_id == offer.call_id, WrapUp.agent == agent)) is not None
        expired = now >= offer.completed_at + self.limit
        if held:
            if wrapped or expired:
                self.presence.set(session, agent, False, None, GATE, now)
            return
        already = session.scalar(select(AgentPresence.id).where(
            AgentPresence.agent == agent, AgentPresence.reason == WRAP_UP_REASON,
            AgentPresence.at >= offer.completed_at)) is not None
        if not (already or wrapped or expired) and current.state == "ready":
            self.presence.set(session, agent, True, WRAP_UP_REASON, GATE, now)
