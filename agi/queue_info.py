"""`ivr.ports.QueueInfo` from Asterisk's queue functions, read over the call's own AGI channel:
callers waiting and agents ready or logged in, in the queue this caller would join (the
routing policy's queue for their language)."""

from __future__ import annotations

import logging

from ivr.agents import Agent, plan_route
from ivr.errors import ChannelError
from ivr.menu_loader import MenuSet
from ivr.outcomes import Outcome, OutcomeKind
from ivr.ports import Channel, QueueLoad

log = logging.getLogger(__name__)


class AsteriskQueueInfo:
    def __init__(self, channel: Channel, menus: MenuSet, agents: list[Agent]) -> None:
        self.channel = channel
        self.menus = menus
        self.agents = agents

    def load(self, queue: str, language: str) -> QueueLoad | None:
        target = plan_route(Outcome(OutcomeKind.QUEUE, queue=queue, language=language),
                            self.menus, self.agents).queue
        try:
            if self.channel.get_variable(f"QUEUE_EXISTS({target})") != "1":
                return None
            waiting = self._number(f"QUEUE_WAITING_COUNT({target})")
            ready = self._number(f"QUEUE_MEMBER({target},ready)")
            logged = self._number(f"QUEUE_MEMBER({target},logged)")
        except ChannelError as exc:
            log.info("call %s: queue %s unreadable: %s", self.channel.call_id, target, exc)
            return None
        if waiting is None or ready is None or logged is None:
            return None
        return QueueLoad(waiting, ready, logged)

    def _number(self, expression: str) -> int | None:
        value = self.channel.get_variable(expression)
        return int(value) if value is not None and value.strip().isdigit() else None
