"""The database behind caller verification and self-service (ivr.ports.Verifier and
AccountServices): secrets as argon2id hashes, wrong attempts and locks across calls, card
freezes, promises to pay (each with its SMS confirmation in the outbox), ticket status.

Every attempt is stored (never the digits); a lock and a freeze are also written to the
sealed audit log, in the same transaction as the change they record. A database that is down
raises VerifierUnavailable / ServiceUnavailable: the caller goes to an agent.
"""

from __future__ import annotations

import os
import threading
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from db import audit
from db.database import sessions
from db.models import (
    Account,
    AccountStatus,
    Call,
    Complaint,
    CustomerSecret,
    PromiseToPay,
    ServiceTicket,
    VerificationAttempt,
    VerificationStanding,
)
from db.outbox import queue_message
from ivr.ports import (
    ServiceUnavailable,
    TicketState,
    VerificationStatus,
    VerifierUnavailable,
)
from ivr.verification import after_attempt, secret_matches

CHINA = ZoneInfo("Asia/Shanghai")  # the time customers read in a confirmation
IVR_ACTOR = "ivr"  # who the audit log names for what callers did themselves


def hashing_slots(cores: int) -> int:
    """How many secrets are hashed at once: argon2id costs 64 MiB and ~0.2 s of a core per
    check, so a burst of checks would hold every core while the other calls' steps wait.
    One core is left for Asterisk and the calls (measured at 300 SIP calls on 2 cores: step
    p99 11.9 ms and check p99 0.8 s, against 14.5 ms and 1.6 s two at a time)."""
    return max(1, cores - 1)


# Checks beyond the slots wait their turn.
HASHING = threading.BoundedSemaphore(hashing_slots(os.cpu_count() or 1))


class SqlVerifier:
    """`ivr.ports.Verifier` over customer_secrets and verification_standing."""

    def __init__(self, engine: Engine, seal: audit.AuditSeal) -> None:
        self.sessions = sessions(engine)
        self.seal = seal

    def status(self, customer_id: str, now: datetime) -> VerificationStatus:
        try:
            with self.sessions() as session:
                enrolled = frozenset(session.scalars(select(CustomerSecret.method).where(
                    CustomerSecret.customer_id == customer_id)))
                standing = session.get(VerificationStanding, customer_id)
        except SQLAlchemyError as exc:
            raise VerifierUnavailable(f"database: {type(exc).__name__}") from exc
        return _status(enrolled, standing)

    def attempt(self, customer_id: str, method: str, secret: str, *, call_id: str,
                now: datetime, max_failures: int, lock_minutes: int) -> VerificationStatus:
        try:
            with self.sessions() as session:
                stored = session.get(CustomerSecret, (customer_id, method))
                stored_hash = stored.secret_hash if stored is not None else None
        except SQLAlchemyError as exc:
            raise VerifierUnavailable(f"database: {type(exc).__name__}") from exc
        # The slow hash before any lock (attempts at once queue only for the counters), in
        # the hashing slots: a burst of verifications must not starve every other call.
        with HASHING:
            correct = stored_hash is not None and secret_matches(stored_hash, method, secret)
        try:
            with audit.seal_session(self.sessions(), self.seal) as session, session.begin():
                standing = _locked_standing(session, customer_id, now)
                before = _status(frozenset(), standing)
                refused = before.locked(now)  # judged under the lock: a lock always holds
                matched = not refused and correct
                after = after_attempt(before, matched, now, max_failures=max_failures,
                                      lock_minutes=lock_minutes)
                standing.failures = after.failures
                standing.locked_until = after.locked_until
                standing.updated_at = now
                result = ("refused" if refused else "verified" if matched
                          else "locked-out" if after.locked(now) else "wrong")
                session.add(VerificationAttempt(customer_id=customer_id, call_id=call_id,
                                                at=now, method=method, result=result))
                if result == "locked-out":
                    audit.record(session, now, IVR_ACTOR, "verification-locked",
                                 f"customer:{customer_id}",
                                 f"call {call_id}: {after.failures} wrong in a row, locked "
                                 f"until {after.locked_until:%Y-%m-%dT%H:%MZ}")
        except SQLAlchemyError as exc:
            raise VerifierUnavailable(f"database: {type(exc).__name__}") from exc
        return after


def _locked_standing(session: Session, customer_id: str, now: datetime) -> VerificationStanding:
    """The customer's standing, its row locked until the attempt commits. The row is made
    first if absent: FOR UPDATE locks no row that does not exist, and two first attempts
    at once (one customer calling twice, or a script racing the lockout) would each insert
    it, and one would fail."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    session.execute(insert(VerificationStanding).values(
        customer_id=customer_id, failures=0, locked_until=None, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["customer_id"]))
    standing = session.get(VerificationStanding, customer_id, with_for_update=True,
                           populate_existing=True)
    assert standing is not None  # made above, and never deleted
    return standing


def _status(enrolled: frozenset[str],
            standing: VerificationStanding | None) -> VerificationStatus:
    if standing is None:
        return VerificationStatus(enrolled, 0, None)
    return VerificationStatus(enrolled, standing.failures, standing.locked_until)


class SqlAccountServices:
    """`ivr.ports.AccountServices` over accounts, promises_to_pay and tickets."""

    def __init__(self, engine: Engine, seal: audit.AuditSeal) -> None:
        self.sessions = sessions(engine)
        self.seal = seal

    def freeze_cards(self, customer_id: str, *, call_id: str, now: datetime) -> int:
        try:
            with audit.seal_session(self.sessions(), self.seal) as session, session.begin():
                cards = list(session.scalars(select(Account).where(
                    Account.customer_id == customer_id, Account.kind == "card",
                    Account.status == AccountStatus.ACTIVE).with_for_update()))
                if cards:
                    local = now.astimezone(CHINA)
                    queue_message(session, customer_id, "card-frozen",
                                  {"at": f"{local:%m月%d日%H:%M}"}, now)
                for card in cards:
                    card.status = AccountStatus.FROZEN
                    # The audit line names the card by its last 4 digits only.
                    audit.record(session, now, IVR_ACTOR, "card-frozen",
                                 f"customer:{customer_id}",
                                 f"call {call_id}: card ending {card.account_no[-4:]}")
        except SQLAlchemyError as exc:
            raise ServiceUnavailable(f"database: {type(exc).__name__}") from exc
        return len(cards)

    def promise_to_pay(self, customer_id: str, amount: str, pay_by: date, *, call_id: str,
                       now: datetime) -> None:
        try:
            value = Decimal(amount)
        except InvalidOperation as exc:
            raise ServiceUnavailable(f"amount {amount!r} is not a number") from exc
        try:
            with self.sessions() as session, session.begin():
                session.add(PromiseToPay(customer_id=customer_id, call_id=call_id,
                                         made_at=now, amount=value, pay_by=pay_by))
                queue_message(session, customer_id, "promise-to-pay",
                              {"pay_by": f"{pay_by.month}月{pay_by.day}日",
                               "amount": f"{value:.2f}"}, now)
        except SQLAlchemyError as exc:
            raise ServiceUnavailable(f"database: {type(exc).__name__}") from exc

    def ticket(self, customer_id: str, ticket: str) -> TicketState | None:
        try:
            with self.sessions() as session:
                case = session.get(ServiceTicket, ticket)
                if case is not None:
                    return (TicketState(case.ticket, case.category, case.status)
                            if case.customer_id == customer_id else None)
                # A complaint filed from a call of this customer's.
                complaint = session.scalar(
                    select(Complaint).join(Call, Call.call_id == Complaint.call_id)
                    .where(Complaint.ticket == ticket, Call.customer_id == customer_id))
        except SQLAlchemyError as exc:
            raise ServiceUnavailable(f"database: {type(exc).__name__}") from exc
        if complaint is None:
            return None
        return TicketState(complaint.ticket, complaint.category, complaint.status,
                           complaint.reply_due)
