"""The floor now, for the supervisors' wallboard: per queue the callers waiting (masked
numbers only), the longest wait, and its agents ready, on a call, ringing, paused or
offline — from Asterisk's own view (AMI QueueStatus), not from what the records guess.

`board_from_status` reads the QueueStatus list (QueueParams, QueueMember, QueueEntry
events); `read_board` asks a connected AMI for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from db.privacy import mask_number
from pbx.ami import Ami

# AMI QueueMember Status (Asterisk's device states).
NOT_IN_USE, IN_USE, BUSY, INVALID, UNAVAILABLE, RINGING, RING_IN_USE, ON_HOLD = range(1, 9)
TALKING_STATES = {IN_USE, BUSY, RING_IN_USE, ON_HOLD}


@dataclass(frozen=True)
class WaitingCaller:
    position: int
    caller_masked: str
    wait_s: int


@dataclass
class QueueNow:
    queue: str
    waiting: list[WaitingCaller] = field(default_factory=list)
    ready: int = 0
    on_call: int = 0
    ringing: int = 0
    paused: int = 0
    offline: int = 0

    @property
    def longest_wait_s(self) -> int:
        return max((caller.wait_s for caller in self.waiting), default=0)


def member_state(event: Mapping[str, str]) -> str:
    """ready | on a call | ringing | paused | offline, as a supervisor counts them: an agent
    talking while paused (held for wrap-up after this call) is on a call."""
    status = _int(event.get("Status"))
    if event.get("InCall") == "1" or status in TALKING_STATES:
        return "on a call"
    if status in (UNAVAILABLE, INVALID):
        return "offline"
    if event.get("Paused") == "1":
        return "paused"
    return "ringing" if status == RINGING else "ready"


def board_from_status(events: Iterable[Mapping[str, str]]) -> list[QueueNow]:
    queues: dict[str, QueueNow] = {}
    for event in events:
        name = event.get("Queue")
        if not name:
            continue
        now = queues.setdefault(name, QueueNow(name))
        kind = event.get("Event")
        if kind == "QueueMember":
            state = member_state(event)
            attribute = {"on a call": "on_call"}.get(state, state)
            setattr(now, attribute, getattr(now, attribute) + 1)
        elif kind == "QueueEntry":
            # The number as Asterisk has it never leaves this function unmasked.
            now.waiting.append(WaitingCaller(_int(event.get("Position")),
                                             mask_number(event.get("CallerIDNum") or ""),
                                             _int(event.get("Wait"))))
    for now in queues.values():
        now.waiting.sort(key=lambda caller: caller.position)
    return sorted(queues.values(), key=lambda now: now.queue)


def read_board(ami: Ami) -> list[QueueNow]:
    return board_from_status(ami.action_list("QueueStatus", "QueueStatusComplete"))


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
