"""The call-records database: SQLAlchemy 2 typed models. One schema for SQLite (the default
file) and PostgreSQL (by URL); Alembic migrations in db/migrations create it.

Caller data: calls hold only a masked number and a keyed hash (to find repeat callers); a
callback's number is stored because the dialler needs it, and is never logged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names: migrations can refer to them on every database.
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}

CALL_ID = String(64)  # Asterisk uniqueid/linkedid ("1732350000.42"), or a test's own id


class RecordingStatus(StrEnum):
    """Where a compliance recording is in its life (stored as text in `recordings.status`)."""

    PENDING = "pending"  # the call ended; the records service has not stored it yet
    STORED = "stored"  # a WAV with its size, duration and sha256
    EMPTY = "empty"  # stored, but no audio (an alarm)
    MISSING = "missing"  # the file never came (an alarm)
    PURGED = "purged"  # deleted by retention; the row stays as the record of it
    UNREADABLE = "unreadable"  # a file that is not a readable WAV (an alarm; kept as found)
    OUTSIDE = "outside"  # the row names a file outside the recordings folder (never touched)


# Recordings with a file on disk that can be played, verified and purged.
KEPT_RECORDINGS = (RecordingStatus.STORED, RecordingStatus.EMPTY)


class CallbackStatus(StrEnum):
    """A booked callback's state (stored as text in `callbacks.status`)."""

    BOOKED = "booked"  # waiting for its time (not before `not_before`)
    DIALLING = "dialling"  # a placeholder waits in the queue for an agent
    DONE = "done"  # the customer answered
    FAILED = "failed"  # attempts ran out


class Moment(TypeDecorator[datetime]):
    """A point in time, stored in UTC and read back timezone-aware on every database (SQLite
    keeps no offset: comparisons there only work when everything is UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give moments a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: Moment()}


class Call(Base):
    """One caller's call, from Asterisk answering it to the hang-up."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, unique=True)  # Asterisk uniqueid
    linked_id: Mapped[str | None] = mapped_column(CALL_ID)
    caller_masked: Mapped[str | None] = mapped_column(String(32))  # "*******1234"
    caller_key: Mapped[str | None] = mapped_column(String(64), index=True)  # keyed hash
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    menu_version: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))  # queue | hangup | failed | hung-up
    reason: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))  # menu queue (service line)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(Text)  # menu nodes, '>'-separated
    failure: Mapped[str | None] = mapped_column(String(64))  # [hotline-failure] extension
    verified: Mapped[str | None] = mapped_column(String(16))  # pin | id_and_card | no | locked
    verify_failures: Mapped[int | None] = mapped_column(Integer)  # wrong secrets this call

    events: Mapped[list[CallEvent]] = relationship(back_populates="call",
                                                   order_by="CallEvent.at")
    queue_legs: Mapped[list[QueueLeg]] = relationship(back_populates="call",
                                                      order_by="QueueLeg.joined_at")

    __table_args__ = (Index("ix_calls_started_at", "started_at"),)


class CallEvent(Base):
    """What happened in a call, as the IVR and Asterisk reported it (the IVR path, messages,
    callbacks, queue moves). `event_id` makes replaying the spool idempotent."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]

    call: Mapped[Call] = relationship(back_populates="events")


class SpeechResult(Base):
    __tablename__ = "speech_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    at: Mapped[datetime]
    node: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    accepted: Mapped[bool] = mapped_column(Boolean)
    interrupted_prompt: Mapped[bool] = mapped_column(Boolean, default=False)


class MessageText(Base):
    """The free-text transcript of a recorded message (complaint descriptions, voicemail)."""

    __tablename__ = "message_texts"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    reference: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class QueueLeg(Base):
    """A call's time in one agent queue: joined, then answered by an agent, abandoned, or left
    by a key (callback, menu)."""

    __tablename__ = "queue_legs"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    queue: Mapped[str] = mapped_column(String(64))  # Asterisk queue, e.g. cards-yue
    joined_at: Mapped[datetime]
    position: Mapped[int | None] = mapped_column(Integer)  # on joining
    result: Mapped[str | None] = mapped_column(String(16))  # answered|abandoned|left-by-key
    ended_at: Mapped[datetime | None]  # answered, abandoned or left
    wait_s: Mapped[int | None] = mapped_column(Integer)
    abandon_position: Mapped[int | None] = mapped_column(Integer)
    agent: Mapped[str | None] = mapped_column(String(64))  # member name
    talk_s: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None]  # the agent leg ended

    call: Mapped[Call] = relationship(back_populates="queue_legs")
    __table_args__ = (UniqueConstraint("call_id", "queue", "joined_at",
                                       name="uq_queue_legs_call_queue_joined"),)


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    phone_numbers: Mapped[list[PhoneNumber]] = relationship(back_populates="customer")
    accounts: Mapped[list[Account]] = relationship(back_populates="customer")


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    customer: Mapped[Customer] = relationship(back_populates="phone_numbers")


class Account(Base):
    """A card or loan: what lookups read out and route on."""

    __tablename__ = "accounts"
    account_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # account | card
    status: Mapped[str] = mapped_column(String(16))  # active | blocked | lost | closed
    balance: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    due_date: Mapped[date | None] = mapped_column(Date)
    days_overdue: Mapped[int] = mapped_column(Integer, default=0)
    minimum_due: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    overdue_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    customer: Mapped[Customer] = relationship(back_populates="accounts")


class AccountStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"  # by the caller in the IVR (lost or stolen); only an agent undoes it
    BLOCKED = "blocked"
    LOST = "lost"
    CLOSED = "closed"


class CustomerSecret(Base):
    """A verification secret, as an argon2id hash only."""

    __tablename__ = "customer_secrets"
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"),
                                             primary_key=True)
    method: Mapped[str] = mapped_column(String(16), primary_key=True)  # pin | id_and_card
    secret_hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime]


class VerificationStanding(Base):
    """Wrong secrets in a row and the lock they caused, across calls."""

    __tablename__ = "verification_standing"
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"),
                                             primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class VerificationAttempt(Base):
    """Every secret checked: who, how, in which call, with what result (never the digits)."""

    __tablename__ = "verification_attempts"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, index=True)
    at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(16))  # verified | wrong | locked-out | refused


class PromiseToPay(Base):
    """A verified overdue customer's promise, made by keys in the IVR, for collections."""

    __tablename__ = "promises_to_pay"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, index=True)
    made_at: Mapped[datetime]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    pay_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | kept | broken


class OutboxMessage(Base):
    """A notification the hotline owes a customer (an SMS confirming a freeze or a promise),
    written in the same transaction as what it confirms and sent by the records service
    through the gateway, with retries. `data` holds the words' figures, never secrets."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # card-frozen | promise-to-pay
    data: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class ServiceTicket(Base):
    """A customer's dispute or refund case (opened by agents or back-office systems); the
    IVR reads its status to the verified customer whose ticket it is."""

    __tablename__ = "service_tickets"
    ticket: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    category: Mapped[str] = mapped_column(String(32))  # card-dispute | refund
    status: Mapped[str] = mapped_column(String(16), default="new")
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]


class FollowUp(Base):
    """A caller's message someone must answer by `due_at` (24 hours): left when no agent
    took the call in time, or after hours. `reply_to` is the number to answer on (needed to
    reply; never logged)."""

    __tablename__ = "follow_ups"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    queue: Mapped[str | None] = mapped_column(String(64))  # the queue the caller waited in
    language: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    reply_to: Mapped[str | None] = mapped_column(String(32))
    message_ref: Mapped[str] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | done
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(Text)  # what was done, in the handler's words


class Callback(Base):
    """A booked callback: from a queue (keeping the caller's place) or for the dialler."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    booked_at: Mapped[datetime]
    number: Mapped[str] = mapped_column(String(32))  # needed to dial; never logged
    queue: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(64))
    not_before: Mapped[datetime]
    # booked: the dialler will dial it at not_before; dialling: a placeholder waits for an
    # agent (from the queue or the dialler); done: the customer answered; failed: given up.
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.BOOKED)
    updated_at: Mapped[datetime | None]
    attempts: Mapped[list[CallbackAttempt]] = relationship(back_populates="callback",
                                                           order_by="CallbackAttempt.at")


class CallbackAttempt(Base):
    """Every outbound dial, kept or not: the daily cap per number is counted from these
    (through the callback's number)."""

    __tablename__ = "callback_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    at: Mapped[datetime]
    result: Mapped[str] = mapped_column(String(16))  # Asterisk's DIALSTATUS: ANSWER, BUSY, ...
    callback: Mapped[Callback] = relationship(back_populates="attempts")


class Complaint(Base):
    __tablename__ = "complaints"
    ticket: Mapped[str] = mapped_column(String(16), primary_key=True)
    call_id: Mapped[str | None] = mapped_column(CALL_ID, ForeignKey("calls.call_id"),
                                                index=True)
    event_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    description_ref: Mapped[str | None] = mapped_column(Text)  # recorded message
    transcript: Mapped[str | None] = mapped_column(Text)
    callback_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    reply_due: Mapped[datetime]
    resolution_due: Mapped[datetime]
    replied_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    extensions: Mapped[list[ComplaintExtension]] = relationship(back_populates="complaint")


class ComplaintExtension(Base):
    __tablename__ = "complaint_extensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(ForeignKey("complaints.ticket"), index=True)
    extended_at: Mapped[datetime]
    new_due: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approval_ref: Mapped[str | None] = mapped_column(Text)
    complaint: Mapped[Complaint] = relationship(back_populates="extensions")


class Survey(Base):
    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    at: Mapped[datetime]
    queue: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)  # 1-5
    by_voice: Mapped[bool] = mapped_column(Boolean, default=False)


class Recording(Base):
    """A call's compliance recording. `pending` from the call's end until the records service
    has turned the raw MixMonitor file into a WAV; then `stored` with its size, duration and
    sha256 (what `hotline recordings verify` checks). `missing` and `empty` are alarms;
    `purged` rows stay as the record of what retention deleted."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[str] = mapped_column(String(16), default=RecordingStatus.STORED, index=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    agent: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32), default="call")
    retain_until: Mapped[date | None] = mapped_column(Date)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship()


class QaReview(Base):
    """A QA reviewer's score of one recording against the checklist (console/qa.yaml)."""

    __tablename__ = "qa_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    answers: Mapped[dict[str, Any]]  # checklist item id -> true/false
    score: Mapped[int] = mapped_column(Integer)  # percent of the checklist's weight met
    notes: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who did what to which record, when: every playback, download, score, hold and purge.
    Append-only: database triggers refuse UPDATE and DELETE, and each entry carries the hash
    of the one before it, so a removed or changed line shows (`hotline audit verify`)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class ConsoleUser(Base):
    __tablename__ = "console_users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id
    role: Mapped[str] = mapped_column(String(16))  # supervisor | qa | admin | agent
    # An agent's console user is bound to one agent id of routing/agents.yaml.
    agent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # Moves on with every new password, disable, enable or role: older sessions stop.
    credential_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The console's language for this user (console/i18n.LANGUAGES); None: the default.
    language: Mapped[str | None] = mapped_column(String(8))


class ConsoleSession(Base):
    """A signed-in browser. Only the token's hash is stored."""

    __tablename__ = "console_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("console_users.username"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    expires_at: Mapped[datetime]
    credential_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SpoolProgress(Base):
    """How far the spool has been replayed: updated in the same transaction as the events it
    covers, so a replay interrupted at any point neither loses nor repeats an event."""

    __tablename__ = "spool_progress"
    file: Mapped[str] = mapped_column(String(64), primary_key=True)  # events-YYYYMMDD.jsonl
    offset: Mapped[int] = mapped_column(BigInteger)  # bytes applied


class AgentOffer(Base):
    """A queue call offered to an agent (their phone rang): what the agent desk pops up, and
    whose customer the agent may see while serving them."""

    __tablename__ = "agent_offers"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)  # agent id (member name)
    queue: Mapped[str] = mapped_column(String(64))
    caller_channel: Mapped[str | None] = mapped_column(String(128))  # for a transfer
    agent_channel: Mapped[str | None] = mapped_column(String(128))  # to end it for a survey
    offered_at: Mapped[datetime]
    # ringing → answered → completed, or ringing → missed (not answered in time)
    status: Mapped[str] = mapped_column(String(16), default="ringing")
    answered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class AgentPresence(Base):
    """Every change of an agent's presence (ready, or paused with a reason), for
    supervisors and for occupancy in the KPIs."""

    __tablename__ = "agent_presence"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # ready | paused
    reason: Mapped[str | None] = mapped_column(String(32))  # break, training, wrap-up, ...
    by: Mapped[str] = mapped_column(String(64))  # the console user who changed it


class WrapUp(Base):
    """What the agent recorded after a call: disposition, notes and what the customer said,
    kept with the call and the customer (notes are the contact history agents read)."""

    __tablename__ = "wrap_ups"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(CALL_ID, ForeignKey("calls.call_id"), index=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
    disposition: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    arrears_reason: Mapped[str | None] = mapped_column(String(200))
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("call_id", "agent", name="uq_wrap_ups_call_agent"),)
