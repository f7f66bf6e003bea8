"""Asterisk's side of the call record: AMI events about the call's start and end, queue
waits and agent legs, turned into spool events (db/spool.py), which db/replay.py applies.

The caller's number never reaches the spool: only its mask and keyed hash (db/privacy.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from db.privacy import mask_number, number_key
from ivr.ports import EventSink
from pbx.ami import Ami, AmiError, Event

log = logging.getLogger(__name__)

RECONNECT_S = 2.0
# What spool_event reads: UserEvent is class "user", the queue events are class "agent".
COLLECTED_EVENT_CLASSES = "user,agent"


def spool_event(event: Event, number_secret: bytes) -> tuple[str, str, dict[str, object]] | None:
    """(call id, kind, data) for an AMI event the call record needs; None for the rest."""
    name = event.get("Event", "")
    call_id = event.get("Uniqueid", "")
    if not call_id:
        return None
    if name == "UserEvent":
        return _user_event(event, call_id, number_secret)
    queue = event.get("Queue", "")
    if name == "QueueCallerJoin":
        return call_id, "queue-joined", {"queue": queue, "position": event.get("Position")}
    if name == "AgentCalled":  # the agent's phone rings: the desk's screen pop
        return call_id, "agent-offered", {"queue": queue, "agent": event.get("MemberName"),
                                          "channel": event.get("Channel"),
                                          "agent_channel": event.get("DestChannel")}
    if name == "AgentRingNoAnswer":
        return call_id, "agent-missed", {"queue": queue, "agent": event.get("MemberName"),
                                         "ring_s": event.get("RingTime")}
    if name == "AgentConnect":
        return call_id, "queue-answered", {"queue": queue, "agent": event.get("MemberName"),
                                           "hold_s": event.get("HoldTime"),
                                           "ring_s": event.get("RingTime")}
    if name == "AgentComplete":
        return call_id, "agent-completed", {"queue": queue, "agent": event.get("MemberName"),
                                            "talk_s": event.get("TalkTime"),
                                            "hold_s": event.get("HoldTime"),
                                            "ended_by": event.get("Reason")}
    if name == "QueueCallerAbandon":
        return call_id, "queue-abandoned", {"queue": queue, "position": event.get("Position"),
                                            "original_position":
                                                event.get("OriginalPosition"),
                                            "hold_s": event.get("HoldTime")}
    if name == "QueueCallerLeave":
        return call_id, "queue-left", {"queue": queue, "position": event.get("Position")}
    return None


def _user_event(event: Event, call_id: str,
                number_secret: bytes) -> tuple[str, str, dict[str, object]] | None:
    kind = event.get("UserEvent")
    # Callback events belong to the call that booked the callback (For), not the placeholder.
    if kind == "CallbackPlaceholder" and event.get("For"):
        return event["For"], "callback-placeholder", {}
    if kind == "CallbackResult" and event.get("For"):
        return event["For"], "callback-attempt", {"status": event.get("Status")}
    if kind == "HotlineCallStarted":
        number = event.get("Caller", "")
        return call_id, "call-started", {
            "linked_id": event.get("Linkedid"),
            "caller_masked": mask_number(number) if number else None,
            "caller_key": number_key(number, number_secret) if number else None}
    if kind == "HotlineCallEnded":
        return call_id, "call-ended", {
            "outcome": event.get("Outcome"), "reason": event.get("Reason"),
            "queue": event.get("Queue"), "intent": event.get("Intent"),
            "language": event.get("Language"), "menu_version": event.get("MenuVersion"),
            "customer": event.get("Customer"), "failure": event.get("Failure"),
            "agi_status": event.get("AgiStatus"),
            "queue_status": event.get("QueueStatus"), "recording": event.get("Recording")}
    return None


class AmiCollector:
    """Keeps an AMI connection (reconnecting) and spools the events calls need."""

    def __init__(self, connect: Callable[[], Ami], sink: EventSink,
                 number_secret: bytes) -> None:
        self.connect = connect
        self.sink = sink
        self.number_secret = number_secret
        self.spooled = 0
        self.connected = False
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                ami = self.connect()
                ami.connect()
                ami.only_events(COLLECTED_EVENT_CLASSES)
            except AmiError as exc:
                log.warning("AMI unavailable (%s); retrying in %.0f s", exc, RECONNECT_S)
                self._stop.wait(RECONNECT_S)
                continue
            self.connected = True
            log.info("collecting call events from AMI")
            try:
                self._consume(ami)
            finally:
                self.connected = False
                ami.close()

    def _consume(self, ami: Ami) -> None:
        while not self._stop.is_set():
            event = ami.next_event(0.5)
            if event is None:
                if not ami.connected:
                    log.warning("AMI connection lost; reconnecting")
                    return
                continue
            found = spool_event(event, self.number_secret)
            if found is not None:
                self.sink.emit(*found)
                self.spooled += 1
