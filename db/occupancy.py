"""Agents' time from the presence log (agent_presence) and their calls: how long each agent
was ready and paused (by reason) in a period, their talk time, and occupancy = talk time ÷
ready time (on a call an agent stays ready in the log). Time before an agent's first logged
change is unknown and not counted."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AgentPresence, QueueLeg


@dataclass
class AgentTime:
    ready_s: float = 0.0
    paused_s: dict[str, float] = field(default_factory=dict)  # reason -> seconds
    talk_s: int = 0

    @property
    def occupancy(self) -> float | None:
        return self.talk_s / self.ready_s if self.ready_s > 0 else None


def agent_times(session: Session, since: datetime, until: datetime,
                now: datetime) -> dict[str, AgentTime]:
    end = min(until, now)
    changes: dict[str, list[AgentPresence]] = defaultdict(list)
    # The change in force at the period's start counts too.
    for row in session.scalars(select(AgentPresence).where(AgentPresence.at < end)
                               .order_by(AgentPresence.id)):
        changes[row.agent].append(row)
    times: dict[str, AgentTime] = {}
    for agent, rows in changes.items():
        spent = times.setdefault(agent, AgentTime())
        for row, following in zip(rows, [*rows[1:], None], strict=True):
            start = max(row.at, since)
            stop = min(following.at if following else end, end)
            seconds = (stop - start).total_seconds()
            if seconds <= 0:
                continue
            if row.state == "ready":
                spent.ready_s += seconds
            else:
                reason = row.reason or "-"
                spent.paused_s[reason] = spent.paused_s.get(reason, 0.0) + seconds
    for leg in session.scalars(select(QueueLeg).where(
            QueueLeg.agent.is_not(None), QueueLeg.talk_s.is_not(None),
            QueueLeg.joined_at >= since, QueueLeg.joined_at < until)):
        if leg.agent in times:
            times[leg.agent].talk_s += leg.talk_s or 0
    return times
