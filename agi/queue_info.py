"""`ivr.ports.QueueInfo` from Asterisk's queue functions, read over the call's own AGI channel:
callers waiting and agents ready or logged in, in the queue this caller would join (the
routing policy's queue for their language)."""

from __future__ import annotations

import logging

from ivr.agents import asterisk_queue
from ivr.errors import ChannelError
from ivr.ports import Channel, QueueLoad

log = logging.getLogger(__name__)


class AsteriskQueueInfo:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def load(self, queue: str, language: str) -> QueueLoad | None:
        target = asterisk_queue(queue, language)
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
