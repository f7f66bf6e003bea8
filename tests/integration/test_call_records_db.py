"""Call records in real databases: the migrations on SQLite and on a real PostgreSQL server,
the spool replayed while PostgreSQL stops and comes back, and calls through real Asterisk
recorded by the records service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select
from typer.testing import CliRunner

from agi.hotline_route import HotlineRoute, no_queue_state
from agi.menu_store import MenuStore
from bench.sip_plans import plan_transcript
from db import migrate
from db.audit import AuditSeal
from db.database import make_engine, sessions
from db.models import Base, Call, CallEvent, Complaint, QueueLeg
from db.postgres import PostgresServer, empty_database
from db.replay import SpoolReplayer
from db.sample_data import load_sample_customers
from db.spool import EventSpool
from db.tickets import FileTicketIssuer
from hotline.cli import app
from ivr.agents import Agent
from ivr.menu_loader import MenuSet
from ivr.transcripts import TranscriptDirectory, load_transcript
from pbx.ami import Ami
from pbx.process import AsteriskInstance
from services.records import Recorder
from tests.integration.conftest import ServerFactory
from tests.integration.dialling import dial, dial_cantonese_dispute, rendered_durations
from tests.support import FixedClock, free_port, race_first_verifications

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    empty_database(server.url)  # every test starts from an empty database
    return server.url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_migrations_create_the_whole_schema(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)  # a second run changes nothing
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
    assert migrate.is_current(database_url)


def count(engine: Engine, model: type[Base]) -> int:
    with sessions(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_first_verifications_at_once_for_one_customer_all_count(engine: Engine,
                                                                tmp_path: Path) -> None:
    """FOR UPDATE locks no row that does not exist yet: the verifier makes the customer's
    standing first, so simultaneous first attempts queue on it instead of one failing."""
    load_sample_customers(engine, ROOT / "db" / "sample_customers.yaml")
    seal = AuditSeal.load(tmp_path / "secrets")
    assert race_first_verifications(engine, seal, callers=6) == ([0] * 6, ["verified"] * 6)


def test_calls_spooled_while_postgresql_is_stopped_are_all_recorded_once_it_returns(
        tmp_path: Path, postgres: PostgresServer) -> None:
    """Calls write events before, during and after the outage; PostgreSQL stops in the
    middle and comes back. The replayer keeps trying; in the end every event is in the
    database exactly once. The calls stop once the database is back and one round ran:
    on a busy machine the database may apply more slowly than calls write, and the test is
    about losing nothing, not about the database's speed."""
    url = postgres.url
    empty_database(url)
    migrate.upgrade(url)
    engine = make_engine(url)
    spool = EventSpool(tmp_path / "spool")
    replayer = SpoolReplayer(tmp_path / "spool", engine)
    written = 0
    stop_writing = threading.Event()

    def calls() -> None:  # 4 calls' worth of events every 50 ms, never blocked
        nonlocal written
        while not stop_writing.is_set():
            for n in range(4):
                spool.emit(f"outage.{written // 4}.{n}", "ivr-finished",
                           {"outcome": "hangup", "language": "cmn", "path": ["welcome.start"]})
            written += 4
            time.sleep(0.05)

    writer = threading.Thread(target=calls)
    writer.start()
    errors = []
    try:
        for _ in range(5):
            replayer.replay()
            time.sleep(0.1)
        postgres.stop("fast")
        written_when_stopped = written
        for _ in range(5):
            errors.append(replayer.replay().error)
            time.sleep(0.1)
        assert written > written_when_stopped, "calls were blocked while the database was down"
        postgres.start()
        replayer.replay()  # catching up while calls go on
    finally:
        stop_writing.set()
        writer.join()
        if not postgres.running():
            postgres.start()
    final = replayer.replay()
    assert final.error is None
    assert all(error is not None for error in errors)
    assert count(engine, CallEvent) == written
    assert count(engine, Call) == written
    engine.dispose()


def wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


@pytest.mark.timeout(300)  # two real calls and an outage, on a possibly busy machine
def test_a_call_through_real_asterisk_leaves_a_complete_record_in_postgresql(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, menus: MenuSet,
        agents: list[Agent], postgres: PostgresServer) -> None:
    """The records service (AMI events + the IVR's spool) writes the call: start, masked
    number, language, path, outcome, the queue leg with the agent who answered, the end.
    A second call runs while PostgreSQL is stopped: its record is complete once it returns."""
    url = postgres.url
    empty_database(url)
    migrate.upgrade(url)
    settings = asterisk.settings.with_changes(database_url_setting=url)
    recorder = Recorder(settings)
    service = threading.Thread(target=recorder.run, args=(free_port(),))
    service.start()
    engine = make_engine(url)
    try:
        wait_for(lambda: recorder.collector.connected, 10)
        first = dial_cantonese_dispute(ami, start_fastagi, asterisk, menus, agents, stay_s=6)
        record = wait_for_record(engine, first.hotline_id)
        assert record.started_at is not None and record.ended_at is not None
        assert record.caller_masked == "*******0000"  # the scripted caller's 13800000000
        assert record.caller_key and "13800000000" not in record.caller_key
        assert (record.language, record.outcome, record.intent) == ("yue", "queue",
                                                                     "card-dispute")
        assert record.path and "cards.disputes" in record.path
        legs = queue_legs(engine, first.hotline_id)
        assert [(leg.queue, leg.result, leg.agent) for leg in legs] == \
            [("cards-disputes-yue", "answered", "cards-yue")]
        assert legs[0].talk_s is not None

        postgres.stop("fast")
        try:
            second = dial_cantonese_dispute(ami, start_fastagi, asterisk, menus, agents,
                                            stay_s=6, serve=False)
            wait_for(lambda: not recorder.status.database_up, 30)  # it was written blind
        finally:
            postgres.start()
        record = wait_for_record(engine, second.hotline_id)
        assert (record.language, record.outcome) == ("yue", "queue")
        assert [leg.result for leg in queue_legs(engine, second.hotline_id)] == ["answered"]
        with sessions(engine)() as session:
            ids = session.scalars(select(CallEvent.event_id)).all()
        assert len(ids) == len(set(ids))
    finally:
        recorder.stop()
        service.join(15)
        engine.dispose()


def wait_for_record(engine: Engine, call_id: str, timeout_s: float = 30) -> Call:
    found: list[Call] = []

    def complete() -> bool:
        with sessions(engine)() as session:
            call = session.scalar(select(Call).where(Call.call_id == call_id))
            legs = session.scalars(select(QueueLeg).where(QueueLeg.call_id == call_id)).all()
        if call is None or call.ended_at is None or not legs or legs[-1].talk_s is None:
            return False
        found.append(call)
        return True

    wait_for(complete, timeout_s)
    return found[-1]


def queue_legs(engine: Engine, call_id: str) -> list[QueueLeg]:
    with sessions(engine)() as session:
        return list(session.scalars(select(QueueLeg).where(QueueLeg.call_id == call_id)
                                    .order_by(QueueLeg.joined_at)).all())


def test_a_complaint_filed_by_a_scripted_caller_gets_a_ticket_and_a_deadline(
        ami: Ami, start_fastagi: ServerFactory, asterisk: AsteriskInstance, tmp_path: Path) -> None:
    """Through real Asterisk: a Mandarin caller picks complaints, a fee complaint, speaks a
    message, hears the ticket number digit by digit and confirms the callback number. The
    complaint is in the database with its clocks and appears in `hotline complaints`."""
    settings = asterisk.settings
    rendered_durations(settings)  # the prompts built, the caller's message among them
    transcript = load_transcript(ROOT / "menus" / "transcripts" /
                                 "complaint-with-callback.yaml")
    store = MenuStore(settings.menus, settings.catalog_file)
    assert store.reload().applied
    spool_dir = tmp_path / "spool"
    route = HotlineRoute(store=store, prompts_dir=settings.prompts_audio_dir,
                         messages_dir=settings.messages_dir,
                         directory=TranscriptDirectory(transcript), events=EventSpool(spool_dir),
                         clock=FixedClock(transcript.at), queue_state=no_queue_state,
                         tickets=FileTicketIssuer(tmp_path / "tickets"))
    start_fastagi({"hotline": route})
    menus = store.current()
    assert menus is not None
    # The caller's message is a rendered prompt spoken as its voice, ended with #.
    plan = plan_transcript(menus, "complaint-with-callback", transcript, barging=True,
                           message_sound="cmn/complaints/intro")
    trace = dial(asterisk, ami, menus, "complaint-with-callback", transcript, stay_s=10,
                 plan=plan, sounds_dir=settings.prompts_audio_dir)
    assert trace.ivr_variables.get("IVR_OUTCOME") == "hangup", trace.agi_commands[-8:]

    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        assert SpoolReplayer(spool_dir, engine).replay().rejected == 0
        with sessions(engine)() as session:
            complaint = session.scalar(select(Complaint))
            assert complaint is not None
            ticket = complaint.ticket
            assert (complaint.call_id, complaint.category, complaint.status,
                    complaint.callback_number) == (trace.hotline_id, "complaint-fees", "new",
                                                   "13800000009")
            assert complaint.reply_due - complaint.opened_at == timedelta(hours=48)
            assert complaint.description_ref is not None
            assert Path(complaint.description_ref).stat().st_size > 8000  # a spoken message
    finally:
        engine.dispose()
    assert ticket.startswith("261123") and len(ticket) == 11
    played = [command.split('"')[1].split("/prompts/")[-1] for command, _result
              in trace.agi_commands if command.startswith("STREAM FILE")]
    start = played.index("cmn/complaints/ticket_is") + 1
    spoken = played[start:start + len(ticket)]
    assert spoken == [f"cmn/say/{'yao' if d == '1' else 'd' + d}" for d in ticket], spoken
    listed = CliRunner().invoke(app, ["complaints", "--csv"],
                                env={**settings.environment(), "HOTLINE_DATABASE_URL": url})
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if line.startswith(ticket))
    assert "complaint-fees" in row and "*******0009" in row
