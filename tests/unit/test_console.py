"""The supervisor console over HTTP (FastAPI's test client, a real migrated SQLite file and
real WAV files): sign-in, roles, session expiry, CSRF, searching, range playback, the audit
trail, QA scores, legal holds, complaints, KPIs, the live screen pop; and everything an
attacker would try (no session, path traversal, forged forms) is refused."""

from __future__ import annotations

import json
import re
import time
import wave
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from console import auth
from console.app import ConsoleConfig, _byte_range, create_app
from console.live import LiveMonitor, MonitorError
from console.throttle import HASH_WAIT_S, MAX_KEYS, Busy, SignInThrottle
from db.models import (
    Account,
    AuditEntry,
    Call,
    Complaint,
    ConsoleSession,
    ConsoleUser,
    Customer,
    FollowUp,
    OutboxMessage,
    QaReview,
    QueueLeg,
    Recording,
    SpeechResult,
)
from db.privacy import number_key
from ivr.agents import Agent
from pbx.ami import Ami

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SECRET = b"k" * 32
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.at = START + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.at


def wav(path: Path, seconds: float = 1.0) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * int(seconds * 125))
    return path.read_bytes()


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> dict[str, object]:
    recordings = tmp_path / "recordings"
    audio = wav(recordings / "2026/11/23/call-1.wav")
    outside = tmp_path / "secret.wav"
    wav(outside)
    messages = tmp_path / "messages"
    message = messages / "2026-11-23" / "call-1-voicemail.wav"
    wav(message)
    with Session(engine) as session, session.begin():
        session.add(Customer(customer_id="C1001"))
        session.add(Account(account_no="6200000000001", customer_id="C1001", kind="loan",
                            status="active", days_overdue=45))
        session.add_all([
            Call(call_id="call-1", started_at=START, ended_at=START + timedelta(minutes=3),
                 caller_masked="*******2222", caller_key=number_key("13911112222", SECRET),
                 language="cmn", intent="lost-card", outcome="queue",
                 path="welcome.start>lang.choose>main.menu>cards.lost", customer_id="C1001"),
            Call(call_id="call-2", started_at=START + timedelta(days=1), language="yue",
                 outcome="hangup", caller_masked="*******3333"),
            Call(call_id="live-1", started_at=START, language="cmn", intent="overdue",
                 customer_id="C1001", path="welcome.start>loans.menu"),
        ])
        session.flush()
        session.add_all([
            Recording(call_id="call-1", path=str(recordings / "2026/11/23/call-1.wav"),
                      status="stored", size_bytes=len(audio), duration_ms=1000,
                      sha256="0" * 64, agent="cards-cmn", queue="cards-priority-cmn",
                      category="service", retain_until=date(2031, 11, 23),
                      registered_at=START),
            Recording(call_id="call-2", path=str(outside), status="stored",
                      size_bytes=1, duration_ms=1000, sha256="0" * 64, category="service",
                      retain_until=date(2031, 11, 24), registered_at=START),
            SpeechResult(event_id="e1", call_id="call-1", at=START, node="main.menu",
                         language="cmn", text="挂失", confidence=0.93, accepted=True),
            Complaint(ticket="26112300017", call_id="call-1", category="fees",
                      opened_at=START, reply_due=START + timedelta(hours=48),
                      resolution_due=START + timedelta(days=15)),
            QueueLeg(call_id="live-1", queue="collections-cmn", joined_at=START,
                     result="answered", agent="collections-1"),
            FollowUp(event_id="f1", call_id="call-1", opened_at=START,
                     due_at=START + timedelta(hours=24), queue="cards", language="cmn",
                     reply_to="13911112222", message_ref=str(message), status="open"),
            # A row pointing outside the messages folder (a tampered database).
            FollowUp(event_id="f2", call_id="call-2", opened_at=START,
                     due_at=START + timedelta(hours=24), message_ref=str(outside),
                     status="open"),
            OutboxMessage(created_at=START, customer_id="C1001", kind="card-frozen",
                          data={}, status="failed", attempts=5, next_try_at=START,
                          last_error="gateway answered 503"),
        ])
        for name, role in (("sup1", "supervisor"), ("qa1", "qa"), ("admin1", "admin")):
            auth.add_user(session, name, PASSWORD, role, START)
    clock = Clock()
    app = create_app(ConsoleConfig(engine=engine, recordings_dir=recordings,
                                   messages_dir=messages, number_secret=SECRET, now=clock))
    return {"client": TestClient(app), "clock": clock, "audio": audio, "engine": engine}


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> int:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf": csrf.group(1)}, follow_redirects=False)
    return response.status_code


def csrf_of(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def audit_actions(engine: object) -> list[tuple[str, str, str]]:
    with Session(engine) as session:  # type: ignore[arg-type]
        return [(e.actor, e.action, e.target) for e in session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


def test_nothing_without_signing_in(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    for path in ("/", "/recordings", "/recordings/1", "/complaints", "/dashboard", "/live",
                 "/audit", "/followups"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login"), path
    for path in ("/recordings/1/audio", "/recordings/1/download", "/followups/1/audio"):
        assert client.get(path).status_code == 401
    assert client.post("/recordings/1/hold", data={"csrf": "x", "action": "hold",
                                                   "reason": "x"},
                       follow_redirects=False).status_code == 303
    client.cookies.set("hotline_session", "forged-token")
    assert client.get("/recordings", follow_redirects=False).status_code == 303


def test_sign_in_refuses_wrong_passwords_and_locks_out_guessing(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    assert sign_in(client, "sup1", "wrong password!") == 401
    assert sign_in(client, "nobody", PASSWORD) == 401
    for _ in range(4):
        sign_in(client, "sup1", "wrong password!")
    assert sign_in(client, "sup1") == 429  # even the right password, for five minutes
    assert client.post("/login", data={"username": "qa1", "password": PASSWORD,
                                       "csrf": "forged"}).status_code == 403


def test_passwords_are_stored_hashed(world: dict[str, object]) -> None:
    with Session(world["engine"]) as session:  # type: ignore[arg-type]
        stored = session.get(ConsoleUser, "sup1")
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
    with pytest.raises(auth.AuthError):
        auth.add_user(Session(world["engine"]), "x", "short", "qa", START)  # type: ignore


def test_sessions_expire_after_idling(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    clock: Clock = world["clock"]  # type: ignore[assignment]
    assert sign_in(client, "qa1") == 303
    assert client.get("/recordings", follow_redirects=False).status_code == 200
    clock.at += timedelta(minutes=29)
    assert client.get("/recordings", follow_redirects=False).status_code == 200
    clock.at += timedelta(minutes=31)
    assert client.get("/recordings", follow_redirects=False).status_code == 303


def test_a_sign_in_whose_commit_fails_is_not_answered_as_signed_in(
        world: dict[str, object]) -> None:
    """The attack on a late commit: were the transaction committed after the response went
    out, the browser would get its 303 and cookie for a session that was never stored (and a
    sign-in's redirect could outrun its own commit)."""
    engine: Engine = world["engine"]  # type: ignore[assignment]
    app = world["client"].app  # type: ignore[attr-defined]
    client = TestClient(app, raise_server_exceptions=False)

    def note(session: Session, _context: object) -> None:
        if any(isinstance(row, ConsoleSession) for row in session.new):
            session.info["signing-in"] = True

    def refuse(session: Session) -> None:
        if session.info.get("signing-in"):
            raise OSError("disk full")

    event.listen(Session, "after_flush", note)
    event.listen(Session, "before_commit", refuse)
    try:
        status = sign_in(client, "qa1")
    finally:
        event.remove(Session, "after_flush", note)
        event.remove(Session, "before_commit", refuse)
    assert status == 500
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 0
    assert client.get("/recordings", follow_redirects=False).status_code == 303  # to login


def test_being_seen_is_written_once_a_minute_not_on_every_request(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    clock: Clock = world["clock"]  # type: ignore[assignment]
    engine: Engine = world["engine"]  # type: ignore[assignment]
    assert sign_in(client, "qa1") == 303

    def last_seen() -> datetime:
        with Session(engine) as session:
            return session.scalars(select(ConsoleSession.last_seen).where(
                ConsoleSession.username == "qa1")).one()

    opened = last_seen()
    clock.at += timedelta(seconds=59)
    assert client.get("/recordings", follow_redirects=False).status_code == 200
    assert last_seen() == opened  # an event stream's half-second checks write nothing
    clock.at += timedelta(seconds=2)
    assert client.get("/recordings", follow_redirects=False).status_code == 200
    assert last_seen() == opened + timedelta(seconds=61)


def test_search_by_caller_ticket_language_and_date(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "sup1")

    def found(**query: str) -> list[str]:
        return re.findall(r'data-call="([^"]+)"', client.get("/recordings",
                                                             params=query).text)

    assert found() == ["call-2", "call-1"]
    assert found(caller="139 1111 2222") == ["call-1"]  # by keyed hash, never stored
    assert found(caller="3333") == ["call-2"]
    assert found(ticket="26112300017") == ["call-1"]
    assert found(language="yue") == ["call-2"]
    assert found(agent="cards-cmn", queue="cards-priority") == ["call-1"]
    assert found(day_from="2026-11-24") == ["call-2"]
    assert found(day_to="2026-11-23", outcome="queue") == ["call-1"]
    assert "13911112222" not in client.get("/recordings").text


def test_playback_with_seeking_is_audited_once_per_playback(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    audio: bytes = world["audio"]  # type: ignore[assignment]
    sign_in(client, "qa1")
    page = client.get("/recordings/1").text
    assert "cards.lost" in page and "挂失" in page  # the IVR path and what was said
    whole = client.get("/recordings/1/audio")
    assert whole.status_code == 200 and whole.content == audio
    assert whole.headers["accept-ranges"] == "bytes"
    seek = client.get("/recordings/1/audio", headers={"Range": "bytes=1000-1999"})
    assert seek.status_code == 206 and seek.content == audio[1000:2000]
    assert seek.headers["content-range"] == f"bytes 1000-1999/{len(audio)}"
    tail = client.get("/recordings/1/audio", headers={"Range": "bytes=-10"})
    assert tail.content == audio[-10:]
    assert client.get("/recordings/1/audio",
                      headers={"Range": f"bytes={len(audio)}-"}).status_code == 416
    assert [a for a in audit_actions(world["engine"]) if a[1] == "play"] == [
        ("qa1", "play", "recording:1")]


def test_traversal_and_files_outside_the_recordings_folder_are_refused(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "sup1")
    for path in ("/recordings/..%2F..%2Fetc%2Fpasswd/audio", "/recordings/../../etc/passwd",
                 "/recordings/1%2F..%2F2/audio", "/recordings/%2e%2e/audio",
                 "/recordings/-1/audio", "/recordings/99/audio"):
        response = client.get(path)
        assert response.status_code in (404, 422), path
        assert b"RIFF" not in response.content
    # A row pointing outside the folder (a tampered database) is not served either.
    assert client.get("/recordings/2/audio").status_code == 404
    assert client.get("/recordings/2/download").status_code == 404


def test_forms_need_the_session_s_csrf_token(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "qa1")
    assert client.post("/recordings/1/review", data={"item-greeting": "on"}).status_code == 403
    assert client.post("/recordings/1/review", data={"csrf": "forged",
                                                     "item-greeting": "on"}).status_code == 403
    csrf = csrf_of(client, "/recordings/1")
    response = client.post("/recordings/1/review", data={
        "csrf": csrf, "item-greeting": "on", "item-identity": "on", "item-unknown": "on",
        "notes": "verified ID before blocking the card"}, follow_redirects=False)
    assert response.status_code == 303
    with Session(world["engine"]) as session:  # type: ignore[arg-type]
        review = session.scalars(select(QaReview)).one()
        assert review.score == 25 and review.reviewer == "qa1"  # weights 1 + 3 of 16
        assert review.answers["identity"] and not review.answers["accurate"]
    assert "25%" in client.get("/recordings/1").text
    assert ("qa1", "score", "recording:1") in audit_actions(world["engine"])


def test_roles_limit_downloads_holds_and_releases(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "qa1")
    assert client.get("/recordings/1/download").status_code == 403
    csrf = csrf_of(client, "/recordings/1")
    assert client.post("/recordings/1/hold", data={"csrf": csrf, "action": "hold",
                                                   "reason": "x"}).status_code == 403
    assert client.get("/live").status_code == 403
    sign_in(client, "sup1")
    download = client.get("/recordings/1/download")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="recording-1.wav"'
    csrf = csrf_of(client, "/recordings/1")
    assert client.post("/recordings/1/hold", data={"csrf": csrf, "action": "hold",
                                                   "reason": "court order 7"},
                       follow_redirects=False).status_code == 303
    assert client.post("/recordings/1/hold", data={"csrf": csrf, "action": "release",
                                                   "reason": "done"}).status_code == 403
    sign_in(client, "admin1")
    csrf = csrf_of(client, "/recordings/1")
    client.post("/recordings/1/hold", data={"csrf": csrf, "action": "release",
                                            "reason": "case closed"})
    with Session(world["engine"]) as session:  # type: ignore[arg-type]
        assert not session.get(Recording, 1).legal_hold  # type: ignore[union-attr]
    actions = [(who, what) for who, what, _ in audit_actions(world["engine"])
               if what != "sign-in"]
    assert actions == [("sup1", "download"), ("sup1", "hold"), ("admin1", "release")]


def test_the_audit_log_is_read_only(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "sup1")
    client.get("/recordings/1/audio")
    page = client.get("/audit").text
    assert "play" in page and "recording:1" in page and "日志完整，未被篡改" in page
    for method in ("post", "put", "delete"):
        assert getattr(client, method)("/audit").status_code == 405


def test_complaints_dashboard_and_live_screen_pop(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "sup1")
    complaints = client.get("/complaints").text
    assert "26112300017" in complaints and "fees" in complaints
    dashboard = client.get("/dashboard", params={"day_from": "2026-11-20",
                                                 "day_to": "2026-11-25"}).text
    assert "IVR 自助解决率" in dashboard and "echarts.min.js" in dashboard
    charts = json.loads(re.search(r'id="dashboard-charts">(.*?)</script>', dashboard,
                                  re.S).group(1))  # type: ignore[union-attr]
    by_id = {chart["id"]: chart for chart in charts}
    assert by_id["calls"]["categories"][0] == "2026-11-20" and len(
        by_id["calls"]["categories"]) == 6  # every day of the period, empty ones too
    assert by_id["calls"]["series"][0]["data"] == [0, 0, 0, 2, 1, 0]
    assert by_id["satisfaction"]["empty"] and not by_id["calls"]["empty"]
    assert dashboard.count("暂无数据") == 2  # no surveys, no wrap-ups in the period
    exported = client.get("/dashboard/csv", params={"chart": "calls", "day_from": "2026-11-20",
                                                   "day_to": "2026-11-25"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = exported.text.lstrip("\ufeff").splitlines()
    assert rows[0] == "日期,通话量,接通,放弃" and rows[4] == "2026-11-23,2,1,0"
    assert client.get("/dashboard/csv", params={"chart": "../x"}).status_code == 404
    live = client.get("/live").text
    assert "collections-1" in live and "loan active overdue 45 days" in live
    assert "welcome.start → loans.menu" in live
    assert "需要 Asterisk" in live  # no monitor configured in this test


def test_pages_forbid_framing_and_caching(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_playback_starting_past_byte_zero_is_audited_too(world: dict[str, object]) -> None:
    """Attack: `Range: bytes=1-` streamed the whole file (less one byte) unaudited."""
    client: TestClient = world["client"]  # type: ignore[assignment]
    audio: bytes = world["audio"]  # type: ignore[assignment]
    sign_in(client, "qa1")
    sneaky = client.get("/recordings/1/audio", headers={"Range": "bytes=1-"})
    assert sneaky.status_code == 206 and sneaky.content == audio[1:]
    client.get("/recordings/1/audio", headers={"Range": "bytes=5-9"})  # a seek: same playback
    plays = [a for a in audit_actions(world["engine"]) if a[1] == "play"]
    assert plays == [("qa1", "play", "recording:1")]
    clock: Clock = world["clock"]  # type: ignore[assignment]
    for _ in range(3):  # a new playback later is audited again (the session stays active)
        clock.at += timedelta(minutes=15)
        client.get("/recordings/1")
    client.get("/recordings/1/audio", headers={"Range": "bytes=100-"})
    assert len([a for a in audit_actions(world["engine"]) if a[1] == "play"]) == 2


@pytest.mark.parametrize("header", ["bytes=-", "bytes=" + "9" * 5000 + "-",
                                    "bytes=0-" + "9" * 5000, "bytes=1-2,5-9", "bytes=x-",
                                    "items=0-1"])
def test_malformed_ranges_are_416_never_500(world: dict[str, object], header: str) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "qa1")
    assert client.get("/recordings/1/audio", headers={"Range": header}).status_code == 416


def test_out_of_range_ids_dates_and_actions_are_4xx_never_500(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "admin1")
    for path in ("/recordings/99999999999999999999", "/recordings/99999999999999999999/audio",
                 "/recordings/0", "/recordings/-1/audio"):
        assert client.get(path).status_code in (404, 422), path
    for query in ("day_from=9999-12-31&day_to=9999-12-31", "day_from=0001-01-01",
                  "day_from=2026-11-23&day_to=2026-11-01"):
        assert client.get(f"/dashboard?{query}").status_code == 400, query
    # Attack: any action other than "hold" was taken as a release.
    csrf = csrf_of(client, "/recordings/1")
    client.post("/recordings/1/hold", data={"csrf": csrf, "action": "hold", "reason": "r1"},
                follow_redirects=False)
    odd = client.post("/recordings/1/hold", data={"csrf": csrf, "action": "unhold",
                                                  "reason": "r2"}, follow_redirects=False)
    assert odd.status_code == 400
    with Session(world["engine"]) as session:  # type: ignore[arg-type]
        row = session.get(Recording, 1)
        assert row is not None and row.legal_hold


def unreachable_ami() -> Ami:
    pytest.fail("AMI must not be reached")


def test_a_supervisor_phone_cannot_smuggle_a_line_into_ami() -> None:
    """Attack: phone=200%0A passed the $-anchored check and added a line to the Originate."""
    agent = Agent(id="a1", extension="2001", skills={"cards": 5})
    monitor = LiveMonitor(unreachable_ami, [agent])
    for phone in ("200\n", "200\nAction: Command", "200\r", "", "x" * 33):
        with pytest.raises(MonitorError):
            monitor.spy("a1", "listen", phone)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60), st.integers(min_value=0, max_value=10**7))
def test_the_range_parser_answers_any_header_with_a_range_or_416(header: str,
                                                                 size: int) -> None:
    try:
        first, last, partial = _byte_range(header, size)
    except HTTPException as exc:
        assert exc.status_code == 416
        return
    assert 0 <= first <= last < size or (not header and size == 0)


def test_behind_tls_cookies_are_secure_and_only_trusted_hosts_are_answered(
        world: dict[str, object]) -> None:
    """Attack: any Host header was accepted (DNS rebinding), and behind TLS the session
    cookie could not be marked Secure."""
    config = ConsoleConfig(engine=world["engine"], recordings_dir=Path("/nonexistent"),  # type: ignore[arg-type]
                           cookie_secure=True, trusted_hosts=("127.0.0.1", "console.bank"))
    app = create_app(config)
    assert TestClient(app, base_url="http://evil.example").get("/login").status_code == 400
    client = TestClient(app, base_url="https://console.bank")  # TLS ends at the proxy
    form = client.get("/login")
    assert form.status_code == 200
    assert "secure" in form.headers["set-cookie"].lower()
    assert sign_in(client, "sup1") == 303


def test_guessing_from_one_client_does_not_lock_the_user_out_elsewhere(
        world: dict[str, object]) -> None:
    """Attack: five bad posts locked a real user out, repeatable forever."""
    app = world["client"].app  # type: ignore[attr-defined]
    attacker = TestClient(app, client=("10.0.0.66", 50000))
    for _ in range(6):
        sign_in(attacker, "sup1", "wrong password!")
    assert sign_in(attacker, "sup1") == 429  # the guesser is stopped ...
    assert sign_in(TestClient(app, client=("10.0.0.7", 50001)), "sup1") == 303  # ... not sup1


def test_a_flood_of_names_cannot_grow_the_failure_store_or_reach_the_hasher() -> None:
    """Attack: 40 failed sign-ins with 1 MB names kept 45 MB for good; unbounded argon2 at
    64 MiB each (16 parallel sign-ins: 1.07 GB)."""
    clock = [0.0]
    throttle = SignInThrottle(clock=lambda: clock[0])
    for n in range(MAX_KEYS + 500):
        throttle.failed(f"10.0.{n // 250}.{n % 250}", f"name-{n}")
    assert len(throttle) <= MAX_KEYS
    with throttle.hashing(), throttle.hashing():  # two at once; a third waits, then is refused
        started = time.monotonic()
        with pytest.raises(Busy):
            with throttle.hashing():
                pass
        assert time.monotonic() - started < HASH_WAIT_S + 2


def test_huge_names_and_passwords_are_refused_without_hashing(
        world: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    calls: list[str] = []
    real = auth.authenticate
    monkeypatch.setattr(auth, "authenticate",
                        lambda *a: calls.append("hash") or real(*a))  # type: ignore[func-returns-value]
    assert sign_in(client, "x" * 1_000_000, PASSWORD) == 401
    assert sign_in(client, "sup1", "p" * 1_000_000) == 401
    assert calls == []


def test_a_password_reset_or_disable_ends_old_sessions_for_good(
        world: dict[str, object]) -> None:
    """Attack: old sessions survived a password reset, and a disabled user's session came
    back when the user was enabled again."""
    engine = world["engine"]
    client: TestClient = world["client"]  # type: ignore[assignment]
    assert sign_in(client, "qa1") == 303
    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        auth.add_user(session, "qa1", "a new password 2026", "qa", START)  # reset
    assert client.get("/recordings", follow_redirects=False).status_code == 303
    other = TestClient(client.app)
    assert sign_in(other, "qa1", "a new password 2026") == 303
    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        assert auth.disable_user(session, "qa1")
    assert other.get("/recordings", follow_redirects=False).status_code == 303
    with Session(engine) as session, session.begin():  # type: ignore[arg-type]
        auth.add_user(session, "qa1", "a new password 2026", "qa", START)  # enabled again
    assert other.get("/recordings", follow_redirects=False).status_code == 303


def test_messages_are_listed_played_and_marked_done_by_supervisors(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    clock: Clock = world["clock"]  # type: ignore[assignment]
    clock.at = START + timedelta(hours=30)
    assert sign_in(client, "qa1") == 303
    assert client.get("/followups").status_code == 403  # QA scores recordings only
    client.post("/logout", data={"csrf": csrf_of(client, "/recordings")})
    assert sign_in(client, "sup1") == 303
    listed = client.get("/followups")
    assert listed.status_code == 200
    assert "*******2222" in listed.text and "13911112222" not in listed.text
    assert "late" in listed.text and "gateway answered 503" in listed.text
    played = client.get("/followups/1/audio")
    assert played.status_code == 200 and played.content.startswith(b"RIFF")
    # The attack: a row naming a file outside the messages folder is not served.
    assert client.get("/followups/2/audio").status_code == 404
    forged = client.post("/followups/1/done", data={"csrf": "forged", "outcome": "x"})
    assert forged.status_code == 403
    done = client.post("/followups/1/done", data={"csrf": csrf_of(client, "/followups"),
                                                  "outcome": "called back"},
                       follow_redirects=False)
    assert done.status_code == 303
    again = client.post("/followups/1/done", data={"csrf": csrf_of(client, "/followups"),
                                                   "outcome": "again"})
    assert again.status_code == 400
    with Session(world["engine"]) as session:  # type: ignore[arg-type]
        row = session.get(FollowUp, 1)
        assert row is not None and (row.status, row.done_by, row.outcome) == (
            "done", "sup1", "called back")
    assert ("sup1", "follow-up-done", "follow-up:1") in audit_actions(world["engine"])
    assert ("sup1", "play", "follow-up:1") in audit_actions(world["engine"])
