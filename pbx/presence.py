"""Agents' presence in Asterisk's queues: ready, or paused with a reason, in every queue they
are a member of (AMI QueuePause without a queue); every change logged (agent_presence) for
supervisors and occupancy. The console desk sets it for the agent; the records service
holds an agent for wrap-up after each call (services.wrap_up_gate)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AgentPresence
from ivr.agents import Agent
from pbx.ami import Ami, AmiError

PAUSE_REASONS = ("break", "training", "after-call-work")  # what agents choose
WRAP_UP_REASON = "wrap-up"  # set after a call until the wrap-up is saved


class PresenceError(ValueError):
    """A change Asterisk did not take, or one that is not allowed."""


@dataclass(frozen=True)
class Presence:
    agent: str
    state: str  # ready | paused
    reason: str | None
    since: datetime | None


def presence_of(session: Session, agent_ids: list[str]) -> dict[str, Presence]:
    """Each agent's latest presence (ready when nothing was ever logged)."""
    found = {agent: Presence(agent, "ready", None, None) for agent in agent_ids}
    for row in session.scalars(select(AgentPresence).where(
            AgentPresence.agent.in_(agent_ids)).order_by(AgentPresence.id)):
        found[row.agent] = Presence(row.agent, row.state, row.reason, row.at)
    return found


class PresenceControl:
    def __init__(self, connect: Callable[[], Ami], agents: list[Agent]) -> None:
        self.connect = connect
        self.agents = {agent.id: agent for agent in agents}

    def set(self, session: Session, agent_id: str, paused: bool, reason: str | None,
            by: str, now: datetime) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise PresenceError(f"agent {agent_id!r} is not in routing/agents.yaml")
        if paused and reason not in (*PAUSE_REASONS, WRAP_UP_REASON):
            raise PresenceError(f"a pause needs a reason: one of {', '.join(PAUSE_REASONS)}")
        headers = {"Interface": agent.ring, "Paused": "true" if paused else "false"}
        if paused and reason:
            headers["Reason"] = reason
        try:
            with self.connect() as ami:
                ami.action("QueuePause", **headers)
        except AmiError as exc:
            raise PresenceError(f"Asterisk did not take the change: {exc}") from exc
        session.add(AgentPresence(agent=agent_id, at=now, state="paused" if paused else "ready",
                                  reason=reason if paused else None, by=by))
