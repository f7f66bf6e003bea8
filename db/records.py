"""Spooled events → call records. Each event is applied at most once (its `event_id`); the
typed tables (calls, speech results, queue legs, callbacks) are filled from the event kinds
below, and every event is also kept as it came in `call_events` (the call's path).

Events come from the IVR (ivr.interpreter: ivr-finished, speech-result, callback-requested,
message-recorded, message-transcribed) and from Asterisk through pbx.call_events
(call-started, call-ended, queue-joined, agent-offered, agent-missed, queue-answered,
queue-abandoned, queue-left, agent-completed, callback-placeholder, callback-attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from db.complaints import open_complaint
from db.follow_ups import open_follow_up
from db.models import (
    AgentOffer,
    Base,
    Call,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    CallEvent,
    Complaint,
    Customer,
    MessageText,
    QueueLeg,
    Recording,
    RecordingStatus,
    SpeechResult,
    Survey,
)
from db.outbox import queue_message

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Asia/Shanghai")  # how customers read times in their messages

Record = dict[str, Any]  # one spool line: id, at, call_id, kind, data
BATCH_KEY = "records-batch"  # Session.info key of the batch being applied (db.replay)
CALLBACK_ATTEMPTS = 3  # dials per booked callback before it is given up (and reported)
CALLBACK_RETRY_AFTER = timedelta(minutes=10)
CALL_EVENTS: Table = Base.metadata.tables["call_events"]


class BadEvent(ValueError):
    """A spool line that cannot be applied (malformed, missing fields): set aside, not
    retried forever."""


@dataclass
class Batch:
    """What a batch of events looked up once (db.replay): the ids among them applied before,
    and the calls they belong to, so that each event costs no lookups of its own."""

    applied_before: set[str] = field(default_factory=set)
    calls: dict[str, Call] = field(default_factory=dict)
    # The newest queue leg per (call, queue) and offer per (call, agent) the batch made or
    # found: the handlers find them here without a query (and the flush it would cost).
    legs: dict[tuple[str, str], QueueLeg] = field(default_factory=dict)
    offers: dict[tuple[str, str], AgentOffer] = field(default_factory=dict)
    # The batch's call_events rows, inserted together by `write_events` (Core, no ORM
    # objects: most of a batch's rows, and nothing in the batch reads them back).
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def prefetch(cls, session: Session, event_ids: list[str], call_ids: list[str]) -> Batch:
        """Also writes the batch's new calls, in one flush, before any row that refers to
        them (the unit of work does not order rows without a relationship)."""
        batch = cls(
            applied_before=set(session.scalars(select(CallEvent.event_id).where(
                CallEvent.event_id.in_(event_ids)))),
            calls={call.call_id: call for call in session.scalars(select(Call).where(
                Call.call_id.in_(set(call_ids))))})
        for call_id in dict.fromkeys(call_ids):
            if call_id not in batch.calls:
                batch.calls[call_id] = Call(call_id=call_id)
                session.add(batch.calls[call_id])
        session.flush()
        return batch

    def write_events(self, session: Session) -> None:
        if self.events:
            session.execute(insert(CALL_EVENTS), self.events)
            self.events.clear()


def apply_event(session: Session, record: Record, event_id: str,
                batch: Batch | None = None) -> bool:
    """Apply one event in the caller's transaction; False when it was applied before.
    `batch`: lookups made once for many events (ids seen in it count as applied); its
    call_events rows wait in the batch for `Batch.write_events`."""
    try:
        call_id = str(record["call_id"])
        kind = str(record["kind"])
        at = _moment(record["at"])
        data = record.get("data") or {}
    except (KeyError, TypeError, ValueError) as exc:
        raise BadEvent(f"event {event_id}: {exc}") from exc
    if not isinstance(data, dict):
        raise BadEvent(f"event {event_id}: data is not an object")
    if batch is not None:
        if event_id in batch.applied_before:
            return False
        batch.applied_before.add(event_id)  # a line repeated within the batch
        call = batch.calls.get(call_id) or _call(session, call_id)
        batch.calls[call_id] = call
    else:
        if session.scalar(select(CallEvent.id).where(
                CallEvent.event_id == event_id)) is not None:
            return False
        call = _call(session, call_id)
    if batch is not None:
        batch.events.append({"event_id": event_id, "call_id": call.call_id, "at": at,
                             "kind": kind, "data": data})
    else:
        session.add(CallEvent(event_id=event_id, call_id=call.call_id, at=at, kind=kind,
                              data=data))
    handler = HANDLERS.get(kind)
    if handler is not None:
        try:
            handler(session, call, at, data, event_id)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadEvent(f"event {event_id} ({kind}): {exc!r}") from exc
    return True


def _batch(session: Session) -> Batch | None:
    batch = session.info.get(BATCH_KEY)
    return batch if isinstance(batch, Batch) else None


def _call(session: Session, call_id: str) -> Call:
    call = session.scalar(select(Call).where(Call.call_id == call_id))
    if call is None:
        call = Call(call_id=call_id)
        session.add(call)
        session.flush()
    return call


def _moment(value: object) -> datetime:
    # Spooled moments carry their offset; one without is UTC (db.models.Moment stores UTC).
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, "") else str(value)


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value in (None, "") else int(value)


# -- handlers -------------------------------------------------------------------------------

Handler = Callable[[Session, Call, datetime, dict[str, Any], str], None]


def _call_started(session: Session, call: Call, at: datetime, data: dict[str, Any],
                  _event_id: str) -> None:
    call.started_at = call.started_at or at
    call.linked_id = _text(data, "linked_id") or call.linked_id
    call.caller_masked = _text(data, "caller_masked") or call.caller_masked
    call.caller_key = _text(data, "caller_key") or call.caller_key


def _ivr_finished(session: Session, call: Call, at: datetime, data: dict[str, Any],
                  _event_id: str) -> None:
    call.menu_version = _text(data, "menu_version") or call.menu_version
    call.language = _text(data, "language") or call.language
    if call.outcome != "queue":  # a later run (the survey, a menu after the queue) keeps it
        call.outcome = _text(data, "outcome") or call.outcome
    call.queue = _text(data, "queue") or call.queue
    call.intent = _text(data, "intent") or call.intent
    call.customer_id = _text(data, "customer_id") or call.customer_id
    verified = _text(data, "verified")
    if verified and (call.verified in (None, "no") or verified != "no"):
        call.verified = verified  # a later run that asked nobody keeps the earlier proof
    failures = _int(data, "verify_failures")
    if failures:
        call.verify_failures = (call.verify_failures or 0) + failures
    path = data.get("path")
    if isinstance(path, list) and path:
        # A caller who went back to a menu from a queue runs the IVR twice: keep it all.
        text = ">".join(str(node) for node in path)
        call.path = f"{call.path}>{text}" if call.path else text


def _call_ended(session: Session, call: Call, at: datetime, data: dict[str, Any],
                _event_id: str) -> None:
    call.ended_at = at
    call.started_at = call.started_at or at
    # The dialplan's view completes what the IVR reported (and stands alone when the IVR
    # never ran: AGI unreachable).
    call.outcome = call.outcome or _text(data, "outcome") or "hung-up"
    call.reason = _text(data, "reason") or call.reason
    call.failure = _text(data, "failure") or call.failure
    for name in ("language", "intent", "queue", "menu_version"):
        if getattr(call, name) is None:
            setattr(call, name, _text(data, name))
    if call.customer_id is None:
        call.customer_id = _text(data, "customer")
    recording = _text(data, "recording")
    if recording and session.scalar(select(Recording.id).where(
            Recording.path == recording)) is None:
        # Stored and registered by the records service once MixMonitor has closed the file.
        session.add(Recording(call_id=call.call_id, path=recording, status=RecordingStatus.PENDING,
                              category="pending"))


def _speech_result(session: Session, call: Call, at: datetime, data: dict[str, Any],
                   event_id: str) -> None:
    session.add(SpeechResult(
        event_id=event_id, call_id=call.call_id, at=at, node=str(data["node"]),
        language=str(data["language"]), text=str(data["text"]),
        confidence=float(data["confidence"]), accepted=bool(data["accepted"]),
        interrupted_prompt=bool(data.get("interrupted_prompt", False))))


def _callback_requested(session: Session, call: Call, at: datetime, data: dict[str, Any],
                        event_id: str) -> None:
    session.add(Callback(
        event_id=event_id, call_id=call.call_id, booked_at=at, number=str(data["number"]),
        queue=str(data["queue"]), language=str(data["language"]),
        intent=_text(data, "intent"), not_before=_moment(data["not_before"]),
        status=CallbackStatus.BOOKED))
    # The number a complaint filed earlier in the call is answered on.
    for complaint in session.scalars(select(Complaint).where(
            Complaint.call_id == call.call_id)):
        complaint.callback_number = str(data["number"])


def _complaint_filed(session: Session, call: Call, at: datetime, data: dict[str, Any],
                     event_id: str) -> None:
    reference = _text(data, "message")
    transcript = None
    if reference is not None:  # transcribed before the ticket was issued
        transcript = session.scalar(select(MessageText.text).where(
            MessageText.call_id == call.call_id, MessageText.reference == reference))
    number = session.scalar(select(Callback.number).where(Callback.call_id == call.call_id)
                            .order_by(Callback.id.desc()).limit(1))
    complaint = open_complaint(session, ticket=str(data["ticket"]), call_id=call.call_id,
                               category=str(data["category"]), opened_at=at,
                               description_ref=reference, transcript=transcript,
                               callback_number=number, event_id=event_id)
    customer_id = _text(data, "customer_id")
    if customer_id is not None and session.get(Customer, customer_id) is not None:
        # A known customer gets the ticket number in writing too (it was read back).
        queue_message(session, customer_id, "complaint-ticket", {
            "ticket": complaint.ticket,
            "reply_by": f"{complaint.reply_due.astimezone(LOCAL):%m月%d日%H:%M}"}, at)


def _message_transcribed(session: Session, call: Call, at: datetime, data: dict[str, Any],
                         _event_id: str) -> None:
    reference, text = _text(data, "reference"), _text(data, "text")
    if reference is None or text is None:
        return
    session.add(MessageText(call_id=call.call_id, reference=reference, text=text))
    session.flush()
    for complaint in session.scalars(select(Complaint).where(
            Complaint.call_id == call.call_id, Complaint.description_ref == reference)):
        complaint.transcript = text


def _message_recorded(session: Session, call: Call, at: datetime, data: dict[str, Any],
                      event_id: str) -> None:
    # A message (not a complaint's description: its ticket has its own clocks) is answered
    # within 24 hours; the queue is the one the caller waited in (or the call's).
    if data.get("purpose") != "voicemail":
        return
    open_follow_up(session, event_id=event_id, call_id=call.call_id, opened_at=at,
                   message_ref=str(data["reference"]), duration_ms=_int(data, "duration_ms"),
                   queue=_text(data, "queue") or call.queue,
                   language=_text(data, "language") or call.language,
                   intent=_text(data, "intent") or call.intent,
                   customer_id=call.customer_id, reply_to=_text(data, "reply_to"))


def _survey_answered(session: Session, call: Call, at: datetime, data: dict[str, Any],
                     event_id: str) -> None:
    # Asked after the agent hung up: the call's last answered queue leg says who and where.
    leg = session.scalar(select(QueueLeg).where(QueueLeg.call_id == call.call_id,
                                                QueueLeg.result == "answered")
                         .order_by(QueueLeg.joined_at.desc()).limit(1))
    session.add(Survey(event_id=event_id, call_id=call.call_id, at=at,
                       score=int(data["score"]), by_voice=bool(data.get("by_voice", False)),
                       queue=leg.queue if leg else None, agent=leg.agent if leg else None))


def _latest_callback(session: Session, call: Call) -> Callback:
    callback = session.scalar(select(Callback).where(Callback.call_id == call.call_id)
                              .order_by(Callback.booked_at.desc(), Callback.id.desc()).limit(1))
    if callback is None:
        raise ValueError(f"no callback booked by call {call.call_id}")
    return callback


def _callback_placeholder(session: Session, call: Call, at: datetime, data: dict[str, Any],
                          _event_id: str) -> None:
    # The caller left a queue keeping their place: the dialplan dials them, not the dialler.
    callback = _latest_callback(session, call)
    if callback.status == CallbackStatus.BOOKED:
        callback.status = CallbackStatus.DIALLING
        callback.updated_at = at


def _callback_attempt(session: Session, call: Call, at: datetime, data: dict[str, Any],
                      event_id: str) -> None:
    callback = _latest_callback(session, call)
    status = str(data.get("status") or "UNKNOWN")
    session.add(CallbackAttempt(event_id=event_id, callback_id=callback.id, at=at,
                                result=status[:16]))
    session.flush()
    callback.updated_at = at
    if status == "ANSWER":
        callback.status = CallbackStatus.DONE
    elif (session.scalar(select(func.count()).select_from(CallbackAttempt)
                         .where(CallbackAttempt.callback_id == callback.id)) or 0) \
            >= CALLBACK_ATTEMPTS:
        callback.status = CallbackStatus.FAILED
    else:  # the dialler tries again later (calling windows and the daily cap permitting)
        callback.status = CallbackStatus.BOOKED
        callback.not_before = at + CALLBACK_RETRY_AFTER


def _open_leg(session: Session, call: Call, queue: str) -> QueueLeg | None:
    batch = _batch(session)
    if batch is not None and (call.call_id, queue) in batch.legs:
        return batch.legs[(call.call_id, queue)]
    leg = session.scalar(select(QueueLeg).where(
        QueueLeg.call_id == call.call_id, QueueLeg.queue == queue)
        .order_by(QueueLeg.joined_at.desc()).limit(1))
    if leg is not None and batch is not None:
        batch.legs[(call.call_id, queue)] = leg
    return leg


def _add_leg(session: Session, leg: QueueLeg) -> None:
    session.add(leg)
    batch = _batch(session)
    if batch is None:
        session.flush()
    else:
        batch.legs[(leg.call_id, leg.queue)] = leg


def _queue_joined(session: Session, call: Call, at: datetime, data: dict[str, Any],
                  _event_id: str) -> None:
    _add_leg(session, QueueLeg(call_id=call.call_id, queue=str(data["queue"]), joined_at=at,
                               position=_int(data, "position")))


def _queue_answered(session: Session, call: Call, at: datetime, data: dict[str, Any],
                    _event_id: str) -> None:
    leg = _leg_for(session, call, at, data)
    leg.result = "answered"
    leg.ended_at = at
    leg.agent = _text(data, "agent")
    leg.wait_s = _int(data, "hold_s")
    offer = _offer(session, call, leg.agent, "ringing")
    if offer is not None:
        offer.status, offer.answered_at = "answered", at


def _agent_offered(session: Session, call: Call, at: datetime, data: dict[str, Any],
                   event_id: str) -> None:
    offer = AgentOffer(event_id=event_id, call_id=call.call_id, agent=str(data["agent"]),
                       queue=str(data["queue"]), caller_channel=_text(data, "channel"),
                       agent_channel=_text(data, "agent_channel"),
                       offered_at=at, status="ringing")
    session.add(offer)
    batch = _batch(session)
    if batch is None:
        session.flush()
    else:
        batch.offers[(call.call_id, offer.agent)] = offer


def _offer(session: Session, call: Call, agent: object, status: str) -> AgentOffer | None:
    batch = _batch(session)
    newest = batch.offers.get((call.call_id, str(agent))) if batch is not None else None
    if newest is not None and newest.status == status:
        return newest
    return session.scalar(select(AgentOffer).where(
        AgentOffer.call_id == call.call_id, AgentOffer.agent == str(agent),
        AgentOffer.status == status).order_by(AgentOffer.offered_at.desc()).limit(1))


def _agent_missed(session: Session, call: Call, at: datetime, data: dict[str, Any],
                  _event_id: str) -> None:
    offer = _offer(session, call, data["agent"], "ringing")
    if offer is not None:
        offer.status = "missed"


def _queue_abandoned(session: Session, call: Call, at: datetime, data: dict[str, Any],
                     _event_id: str) -> None:
    leg = _leg_for(session, call, at, data)
    leg.result = "abandoned"
    leg.ended_at = at
    leg.abandon_position = _int(data, "position")
    leg.wait_s = _int(data, "hold_s")


def _queue_left(session: Session, call: Call, at: datetime, data: dict[str, Any],
                _event_id: str) -> None:
    # Asterisk reports every leaving (answered and abandoned too): only a leg with no other
    # result was left by a key (callback, back to a menu) or by the queue's time limit.
    leg = _leg_for(session, call, at, data)
    if leg.result is None:
        leg.result = "left"
        leg.ended_at = at
        leg.wait_s = int((at - leg.joined_at).total_seconds())


def _agent_completed(session: Session, call: Call, at: datetime, data: dict[str, Any],
                     _event_id: str) -> None:
    leg = _leg_for(session, call, at, data)
    leg.result = "answered"
    leg.agent = leg.agent or _text(data, "agent")
    leg.talk_s = _int(data, "talk_s")
    leg.completed_at = at
    offer = _offer(session, call, leg.agent, "answered")
    if offer is not None:
        offer.status, offer.completed_at = "completed", at


def _leg_for(session: Session, call: Call, at: datetime, data: dict[str, Any]) -> QueueLeg:
    queue = str(data["queue"])
    leg = _open_leg(session, call, queue)
    if leg is None:  # the join was not seen (collector started mid-call)
        hold_s = _int(data, "hold_s") or 0
        leg = QueueLeg(call_id=call.call_id, queue=queue,
                       joined_at=at - timedelta(seconds=hold_s))
        _add_leg(session, leg)
    return leg


HANDLERS: dict[str, Handler] = {
    "call-started": _call_started,
    "ivr-finished": _ivr_finished,
    "call-ended": _call_ended,
    "speech-result": _speech_result,
    "callback-requested": _callback_requested,
    "callback-placeholder": _callback_placeholder,
    "complaint-filed": _complaint_filed,
    "survey-answered": _survey_answered,
    "message-recorded": _message_recorded,
    "message-transcribed": _message_transcribed,
    "callback-attempt": _callback_attempt,
    "agent-offered": _agent_offered,
    "agent-missed": _agent_missed,
    "queue-joined": _queue_joined,
    "queue-answered": _queue_answered,
    "queue-abandoned": _queue_abandoned,
    "queue-left": _queue_left,
    "agent-completed": _agent_completed,
}
