"""Live monitoring: calls agents are on now, with the agent's screen pop, and ChanSpy from
a supervisor's phone (listen, whisper to the agent, barge in) through the dialplan's
[hotline-supervisor] context."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agi import variables
from db.models import Account, Call, QueueLeg
from ivr.agents import Agent
from pbx.ami import Ami, AmiError

MODES = ("listen", "whisper", "barge")
SUPERVISOR_CONTEXT = "hotline-supervisor"
_PHONE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # matched whole: no newline may ride along


class MonitorError(ValueError):
    pass


@dataclass(frozen=True)
class LiveCall:
    """What the agent's screen shows: who (an internal id, never a number) and what they did
    in the IVR, in which language, and the state of their accounts."""

    call_id: str
    agent: str
    queue: str
    language: str | None
    intent: str | None
    customer_id: str | None
    path: list[str]
    accounts: list[str]  # "card active", "loan overdue 45 days"
    caller_masked: str | None


def live_calls(session: Session) -> list[LiveCall]:
    """Calls an agent has answered and that have not ended (from the call records)."""
    rows = session.execute(
        select(QueueLeg, Call).join(Call, Call.call_id == QueueLeg.call_id)
        .where(QueueLeg.agent.is_not(None), QueueLeg.completed_at.is_(None),
               Call.ended_at.is_(None))
        .order_by(QueueLeg.joined_at)).all()
    found = []
    for leg, call in rows:
        accounts = []
        if call.customer_id:
            for account in session.scalars(select(Account).where(
                    Account.customer_id == call.customer_id).order_by(Account.account_no)):
                overdue = (f" overdue {account.days_overdue} days"
                           if account.days_overdue else "")
                accounts.append(f"{account.kind} {account.status}{overdue}")
        found.append(LiveCall(call.call_id, leg.agent or "", leg.queue, call.language,
                              call.intent, call.customer_id,
                              call.path.split(">") if call.path else [], accounts,
                              call.caller_masked))
    return found


class MonitorUnavailable(RuntimeError):
    """Asterisk could not be reached or did not answer (AMI down, or silent)."""


class LiveMonitor:
    """Rings a supervisor's phone and attaches it to an agent's call with ChanSpy."""

    def __init__(self, connect: Callable[[], Ami], agents: list[Agent],
                 phone_channel: str = "PJSIP/{phone}") -> None:
        self.connect = connect
        self.agents = {agent.id: agent for agent in agents}
        self.phone_channel = phone_channel

    def spy(self, agent_id: str, mode: str, phone: str) -> None:
        if mode not in MODES:
            raise MonitorError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        if not _PHONE.fullmatch(phone):
            raise MonitorError("a phone is an extension of letters, digits, '-' or '_'")
        agent = self.agents.get(agent_id)
        if agent is None:
            raise MonitorError(f"unknown agent {agent_id!r}")
        # ChanSpy matches channels by name prefix: the agent's interface without options.
        target = agent.ring.removesuffix("/n")
        try:
            with self.connect() as ami:
                ami.action("Originate", Channel=self.phone_channel.format(phone=phone),
                           Context=SUPERVISOR_CONTEXT, Exten=mode, Priority="1",
                           Async="true", Timeout="30000",
                           CallerID=f"Monitor <{agent.extension}>",
                           Variable=[f"{variables.SPY_ON}={target}"])
        except AmiError as exc:
            raise MonitorUnavailable(f"Asterisk did not take the call: {exc}") from exc
