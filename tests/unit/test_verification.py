"""Caller verification: the lock-out rule, secrets as argon2id hashes, the database adapters
(attempts, locks across calls, freezes, promises, whose ticket it is), and digits that never
leave the verify node."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from db import audit, self_service
from db.database import make_engine, sessions
from db.migrate import upgrade
from db.models import Account, AuditEntry, OutboxMessage, PromiseToPay, VerificationAttempt
from db.outbox import OutboxSender, http_gateway
from db.sample_data import load_sample_customers
from db.self_service import SqlAccountServices, SqlVerifier
from hotline.cli import app
from ivr.menu_loader import MenuSet
from ivr.ports import VerificationStatus, VerifierUnavailable
from ivr.transcripts import Transcript, run_transcript
from ivr.verification import after_attempt, hash_secret, secret_matches
from tests.support import race_first_verifications

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
FRESH = VerificationStatus(frozenset({"pin"}), 0, None)
RULE = {"max_failures": 3, "lock_minutes": 30}


def test_hashes_are_argon2id_and_x_is_keyed_as_star() -> None:
    stored = hash_secret("id_and_card", "12345X6789")
    assert stored.startswith("$argon2id$") and "12345" not in stored
    assert secret_matches(stored, "id_and_card", "12345*6789")
    assert not secret_matches(stored, "id_and_card", "1234506789")
    assert not secret_matches("not a hash", "pin", "123456")


def test_the_third_wrong_secret_in_a_row_locks_and_a_right_one_clears() -> None:
    one = after_attempt(FRESH, False, NOW, **RULE)
    two = after_attempt(one, False, NOW, **RULE)
    assert (one.failures, two.failures, two.locked(NOW)) == (1, 2, False)
    assert after_attempt(two, True, NOW, **RULE).failures == 0
    three = after_attempt(two, False, NOW, **RULE)
    assert three.locked(NOW) and three.locked_until == NOW + timedelta(minutes=30)


def test_while_locked_even_the_right_secret_changes_nothing() -> None:
    locked = VerificationStatus(frozenset({"pin"}), 3, NOW + timedelta(minutes=5))
    assert after_attempt(locked, True, NOW, **RULE) == locked


def test_a_lock_that_ran_out_starts_afresh() -> None:
    expired = VerificationStatus(frozenset({"pin"}), 3, NOW - timedelta(minutes=1))
    after = after_attempt(expired, False, NOW, **RULE)
    assert (after.failures, after.locked(NOW)) == (1, False)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    upgrade(url)
    made = make_engine(url)
    load_sample_customers(made, ROOT / "db" / "sample_customers.yaml")
    return made


@pytest.fixture
def seal(tmp_path: Path) -> audit.AuditSeal:
    return audit.AuditSeal.load(tmp_path / "secrets")


def test_the_database_verifier_locks_across_calls_and_keeps_every_attempt(
        engine: Engine, seal: audit.AuditSeal) -> None:
    verifier = SqlVerifier(engine, seal)
    assert verifier.status("C1002", NOW).enrolled == frozenset({"pin"})
    for call in ("call-1", "call-2", "call-3"):  # one wrong PIN per call
        status = verifier.attempt("C1002", "pin", "000000", call_id=call, now=NOW, **RULE)
    assert status.locked(NOW)
    # A new call, a new verifier instance: still locked; the right PIN is refused unheard.
    later = NOW + timedelta(minutes=10)
    again = SqlVerifier(engine, seal)
    assert again.status("C1002", later).locked(later)
    assert again.attempt("C1002", "pin", "246801", call_id="call-4", now=later,
                         **RULE).locked(later)
    after_lock = NOW + timedelta(minutes=31)
    assert again.attempt("C1002", "pin", "246801", call_id="call-5", now=after_lock,
                         **RULE).failures == 0
    with sessions(engine)() as session:
        rows = [(a.call_id, a.result) for a in session.scalars(
            select(VerificationAttempt).order_by(VerificationAttempt.id))]
        assert rows == [("call-1", "wrong"), ("call-2", "wrong"), ("call-3", "locked-out"),
                        ("call-4", "refused"), ("call-5", "verified")]
        locks = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "verification-locked")))
        assert [e.target for e in locks] == ["customer:C1002"]
        assert list(audit.verify_chain(session, seal)) == []
        # Nothing about the digits anywhere in the database.
        dump = "\n".join(str(row) for row in session.execute(
            select(VerificationAttempt.__table__)).all())
        assert "246801" not in dump and "000000" not in dump


def test_first_attempts_at_once_for_one_customer_all_count(engine: Engine,
                                                          seal: audit.AuditSeal) -> None:
    """The customer's standing row does not exist before their first attempt: attempts at
    the same moment (one customer calling twice, a script racing the lockout) must each be
    judged and counted, none refused as a database error (which sends callers to agents)."""
    assert race_first_verifications(engine, seal, callers=4) == (
        [0] * 4, ["verified"] * 4)


def test_a_database_that_is_down_sends_the_caller_to_an_agent(tmp_path: Path,
                                                              seal: audit.AuditSeal) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    with pytest.raises(VerifierUnavailable):
        SqlVerifier(broken, seal).status("C1001", NOW)


def test_freezing_changes_only_active_cards_and_is_audited(engine: Engine,
                                                           seal: audit.AuditSeal) -> None:
    accounts = SqlAccountServices(engine, seal)
    assert accounts.freeze_cards("C1001", call_id="c1", now=NOW) == 1
    assert accounts.freeze_cards("C1001", call_id="c2", now=NOW) == 0  # frozen already
    with sessions(engine)() as session:
        card = session.get(Account, "6225880000000001")
        loan = session.get(Account, "6200000000001")
        assert card is not None and loan is not None
        assert (card.status, loan.status) == ("frozen", "active")
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "card-frozen"))
        assert entry is not None and entry.detail == "call c1: card ending 0001"


def test_a_promise_is_stored_with_its_amount_and_date(engine: Engine,
                                                      seal: audit.AuditSeal) -> None:
    SqlAccountServices(engine, seal).promise_to_pay("C1002", "3200.00", date(2026, 11, 30),
                                                    call_id="c1", now=NOW)
    with sessions(engine)() as session:
        promise = session.scalar(select(PromiseToPay))
        assert promise is not None
        assert (promise.amount, promise.pay_by, promise.status) == (
            Decimal("3200.00"), date(2026, 11, 30), "open")


def test_a_ticket_is_told_only_to_the_customer_whose_it_is(engine: Engine,
                                                           seal: audit.AuditSeal) -> None:
    accounts = SqlAccountServices(engine, seal)
    own = accounts.ticket("C1001", "26112000018")
    assert own is not None and (own.category, own.status) == ("card-dispute", "in-progress")
    assert accounts.ticket("C1003", "26112000018") is None  # someone else's
    assert accounts.ticket("C1001", "26112000000") is None


PIN = "135790"


def test_the_pin_never_reaches_events_path_steps_or_outcome(menus: MenuSet) -> None:
    transcript = Transcript.model_validate({
        "name": "t", "at": "2026-11-23T10:00:00+08:00", "caller_number": "13800000001",
        "customers": [{"customer_id": "C1", "phones": ["13800000001"],
                       "cards": ["6225880000000001"],
                       "secrets": {"pin": hash_secret("pin", PIN)}}],
        "steps": [{"press": "1"}, {"press": "1"}, {"press": "999999"}, {"press": PIN},
                  {"press": "2"}],
        "expect": {"outcome": "hangup", "verified": "pin"}})
    result = run_transcript(menus, transcript)
    assert result.passed, result.failures
    seen = repr(result.outcome) + repr(result.caller.events)
    assert PIN not in seen and "999999" not in seen
    assert result.outcome is not None and result.outcome.verification.failures == 1
    moves = [move for move, _at in result.caller.recording]
    assert moves[:5] == ["start", "pause", "resume", "pause", "resume"]  # paused per entry


def test_hash_secret_prints_a_hash_that_verifies_and_refuses_a_short_pin() -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["db", "hash-secret", "--method", "id_and_card"],
                         input="12345*6789\n")
    assert made.exit_code == 0, made.output
    stored = made.output.strip().splitlines()[-1]
    assert stored.startswith("$argon2id$") and secret_matches(stored, "id_and_card",
                                                               "12345X6789")
    assert "6789" not in stored
    short = runner.invoke(app, ["db", "hash-secret"], input="1234\n")
    assert short.exit_code == 2 and "$argon2id$" not in short.output


class Receiver(http.server.BaseHTTPRequestHandler):
    """A local SMS gateway: answers with the next status in `statuses` (then 200)."""

    statuses: list[int] = []
    received: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(json.loads(body))
        status = Receiver.statuses.pop(0) if Receiver.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def gateway() -> Iterator[str]:
    Receiver.statuses, Receiver.received = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()
    server.server_close()


def test_a_freeze_and_a_promise_are_confirmed_by_sms_with_retries(
        engine: Engine, seal: audit.AuditSeal, gateway: str) -> None:
    accounts = SqlAccountServices(engine, seal)
    accounts.freeze_cards("C1001", call_id="c1", now=NOW)
    accounts.promise_to_pay("C1002", "3200.00", date(2026, 11, 30), call_id="c2", now=NOW)
    Receiver.statuses = [503]  # the gateway is overloaded once
    sender = OutboxSender(engine, http_gateway(gateway, timeout_s=5))
    first = sender.send_due(NOW)
    assert (first.sent, first.retried) == (1, 1)
    assert sender.send_due(NOW).sent == 0  # not before its retry time
    assert sender.send_due(NOW + timedelta(minutes=1)).sent == 1
    texts = {r["to"]: r["text"] for r in Receiver.received}
    assert "冻结" in texts["13800000001"] and "10:00" in texts["13800000001"]
    assert "11月30日" in texts["13800000002"] and "3200.00元" in texts["13800000002"]
    with sessions(engine)() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert [(m.kind, m.status, m.attempts) for m in rows] == [
            ("card-frozen", "sent", 2), ("promise-to-pay", "sent", 1)]


def test_an_unreachable_gateway_is_retried_then_failed_never_lost(
        engine: Engine, seal: audit.AuditSeal) -> None:
    SqlAccountServices(engine, seal).freeze_cards("C1001", call_id="c1", now=NOW)
    sender = OutboxSender(engine, http_gateway("http://127.0.0.1:9/sms", timeout_s=1))
    moment = NOW
    for _try in range(5):
        sender.send_due(moment)
        moment += timedelta(hours=2)
    with sessions(engine)() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None
        assert (message.status, message.attempts) == ("failed", 5)
        assert message.last_error and "unreachable" in message.last_error


@pytest.mark.parametrize(("cores", "slots"), [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_secret_checks_leave_a_core_for_the_calls(cores: int, slots: int) -> None:
    assert self_service.hashing_slots(cores) == slots


def test_secrets_are_hashed_at_most_as_many_at_once_as_there_are_slots(
        engine: Engine, seal: audit.AuditSeal, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of verifications queues for the hash instead of starving every call."""
    limit = threading.BoundedSemaphore(2)
    monkeypatch.setattr(self_service, "HASHING", limit)
    running, most = [0], [0]
    guard = threading.Lock()
    real = secret_matches

    def counted(stored: str, method: str, secret: str) -> bool:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # a hash that takes a while
            return real(stored, method, secret)
        finally:
            with guard:
                running[0] -= 1

    monkeypatch.setattr(self_service, "secret_matches", counted)
    outcomes, kept = race_first_verifications(engine, seal, callers=6)
    assert outcomes == [0] * 6 and kept == ["verified"] * 6
    assert most[0] == 2
