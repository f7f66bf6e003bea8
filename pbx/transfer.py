"""Transfer from the agent desk, and the hand-over to the survey. A transfer takes the
caller out of the agent's bridge into another queue with everything the IVR learned (the
IVR_* and inherited SCREEN_* variables stay on the caller's channel; only the route changes),
the new agent's screen saying `transfer`: AMI Setvar on the caller's channel (its name from
Asterisk's own AgentCalled event, never from the browser), then Redirect into
[hotline-outcome] queue, which routes the call anew."""

from __future__ import annotations

from collections.abc import Callable, Collection

from agi import variables
from ivr.agents import SkillRouter
from ivr.outcomes import QueueRoute
from pbx.ami import Ami, AmiError

OUTCOME_CONTEXT = "hotline-outcome"
TRANSFER_REASON = "transfer"


class TransferError(ValueError):
    pass


class CallTransfer:
    def __init__(self, connect: Callable[[], Ami], router: SkillRouter,
                 services: Collection[str]) -> None:
        self.connect = connect
        self.router = router
        self.services = frozenset(services)

    def transfer(self, channel: str, service: str, language: str) -> QueueRoute:
        if service not in self.services:
            raise TransferError(f"unknown queue {service!r}")
        route = self.router.route(service, language, 0)
        values = {variables.IVR_QUEUE: route.queue, variables.IVR_SERVICE: service,
                  variables.IVR_PRIORITY: str(route.priority),
                  variables.IVR_MAX_PENALTY: "" if route.max_penalty is None
                  else str(route.max_penalty),
                  variables.IVR_QUEUE_RULE: route.rule, variables.IVR_REASON: TRANSFER_REASON,
                  variables.HOLD_POSITION: ""}
        try:
            with self.connect() as ami:
                for name, value in values.items():
                    ami.action("Setvar", Channel=channel, Variable=name, Value=value)
                ami.action("Redirect", Channel=channel, Context=OUTCOME_CONTEXT,
                           Exten="queue", Priority="1")
        except AmiError as exc:
            raise TransferError(f"Asterisk did not take the transfer: {exc}") from exc
        return route

    def hand_to_survey(self, agent_channel: str) -> None:
        """End the agent's leg: the caller stays (Queue option c) for the line's survey."""
        try:
            with self.connect() as ami:
                ami.action("Hangup", Channel=agent_channel, Cause="16")
        except AmiError as exc:
            raise TransferError(f"Asterisk did not end the agent's leg: {exc}") from exc
