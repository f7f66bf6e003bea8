"""The callback dialler against a SQLite file with a recording originate: due callbacks are
dialled through a placeholder in the caller's language queue; calling windows and the daily
cap per number defer them; every attempt's result decides what comes next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from db.database import sessions
from db.models import Call, Callback, CallbackAttempt
from db.replay import SpoolReplayer
from db.spool import EventSpool
from ivr.agents import Agent
from ivr.menu_loader import MenuSet
from services.dialler import CallbackDialler, DialRequest
from tests.support import FixedClock

DAYTIME = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
NIGHT = datetime.fromisoformat("2026-11-23T23:30:00+08:00")
NUMBER = "13800000001"


def book(engine: Engine, call_id: str, booked_at: datetime, not_before: datetime,
         number: str = NUMBER) -> int:
    with sessions(engine)() as session, session.begin():
        session.add(Call(call_id=call_id))  # the row the booking call's events made
        session.flush()
        callback = Callback(event_id=f"booking-{call_id}", call_id=call_id,
                            booked_at=booked_at, number=number, queue="cards",
                            language="yue", intent="cards-general", not_before=not_before)
        session.add(callback)
        session.flush()
        return callback.id


def dialler(engine: Engine, menus: MenuSet, at: datetime,
            dialled: list[DialRequest]) -> CallbackDialler:
    return CallbackDialler(engine, lambda: menus, [Agent(
        id="a", extension="2001", skills={"cards": 5, "lang-yue": 5})],
        dialled.append, FixedClock(at))


def status(engine: Engine, callback_id: int) -> Callback:
    with sessions(engine)() as session:
        callback = session.get(Callback, callback_id)
        assert callback is not None
        return callback


def test_a_due_callback_waits_for_an_agent_in_the_callers_language_queue(
        engine: Engine, menus: MenuSet) -> None:
    callback_id = book(engine, "c1", DAYTIME - timedelta(minutes=5),
                       DAYTIME - timedelta(minutes=1))
    dialled: list[DialRequest] = []
    result = dialler(engine, menus, DAYTIME, dialled).dial_due()
    assert result.dialled == 1
    assert [(d.call_id, d.number, d.route.queue, d.language) for d in dialled] == \
        [("c1", NUMBER, "cards-yue", "yue")]
    assert dialled[0].route.priority >= 5  # ahead of routine calls
    assert status(engine, callback_id).status == "dialling"
    # Dialled once: the next round leaves it to the placeholder.
    assert dialler(engine, menus, DAYTIME, dialled).dial_due().dialled == 0


def test_a_callback_just_booked_is_left_to_the_dialplan(engine: Engine,
                                                        menus: MenuSet) -> None:
    book(engine, "c1", DAYTIME - timedelta(seconds=5), DAYTIME - timedelta(seconds=5))
    dialled: list[DialRequest] = []
    assert dialler(engine, menus, DAYTIME, dialled).dial_due().dialled == 0


def test_nobody_is_called_in_the_quiet_hours(engine: Engine, menus: MenuSet) -> None:
    callback_id = book(engine, "c1", NIGHT - timedelta(hours=1), NIGHT - timedelta(hours=1))
    dialled: list[DialRequest] = []
    result = dialler(engine, menus, NIGHT, dialled).dial_due()
    assert (result.dialled, result.deferred, dialled) == (0, 1, [])
    not_before = status(engine, callback_id).not_before.replace(tzinfo=UTC)
    assert not_before == datetime.fromisoformat("2026-11-24T08:00:00+08:00")


def test_the_daily_cap_counts_every_attempt_on_the_number(engine: Engine,
                                                          menus: MenuSet) -> None:
    earlier = book(engine, "c0", DAYTIME - timedelta(hours=2), DAYTIME - timedelta(hours=2))
    with sessions(engine)() as session, session.begin():
        for n in range(6):  # the line's default cap
            session.add(CallbackAttempt(event_id=f"a{n}", callback_id=earlier,
                                        at=DAYTIME - timedelta(minutes=90 - n), result="BUSY"))
        session.get(Callback, earlier).status = "failed"  # type: ignore[union-attr]
    callback_id = book(engine, "c1", DAYTIME - timedelta(minutes=5), DAYTIME)
    other = book(engine, "c2", DAYTIME - timedelta(minutes=5), DAYTIME, number="13900000002")
    dialled: list[DialRequest] = []
    result = dialler(engine, menus, DAYTIME, dialled).dial_due()
    assert [d.call_id for d in dialled] == ["c2"] and result.deferred == 1
    assert status(engine, callback_id).not_before.replace(tzinfo=UTC) == \
        datetime.fromisoformat("2026-11-24T08:00:00+08:00")
    assert status(engine, other).status == "dialling"


def test_attempt_results_are_logged_and_decide_the_next_step(tmp_path: Path, engine: Engine,
                                                             menus: MenuSet) -> None:
    spool = EventSpool(tmp_path / "spool")
    replayer = SpoolReplayer(tmp_path / "spool", engine)
    spool.emit("c1", "callback-requested", {
        "queue": "cards", "number": NUMBER, "language": "cmn", "intent": "cards",
        "node": "cards.callback", "not_before": "2026-11-23T10:00+08:00"})
    spool.emit("c1", "callback-placeholder", {})
    replayer.replay()
    with sessions(engine)() as session:
        callback = session.scalar(select(Callback))
        assert callback is not None and callback.status == "dialling"
        callback_id = callback.id
    spool.emit("c1", "callback-attempt", {"status": "NOANSWER"})
    replayer.replay()
    assert status(engine, callback_id).status == "booked"  # the dialler tries again later
    spool.emit("c1", "callback-attempt", {"status": "BUSY"})
    spool.emit("c1", "callback-attempt", {"status": "NOANSWER"})
    replayer.replay()
    assert status(engine, callback_id).status == "failed"  # three tries, then given up
    with sessions(engine)() as session:
        results = session.scalars(select(CallbackAttempt.result)
                                  .order_by(CallbackAttempt.id)).all()
    assert results == ["NOANSWER", "BUSY", "NOANSWER"]
    spool.emit("c2", "callback-requested", {
        "queue": "cards", "number": NUMBER, "language": "cmn", "intent": "cards",
        "node": "cards.callback", "not_before": "2026-11-23T10:00+08:00"})
    spool.emit("c2", "callback-attempt", {"status": "ANSWER"})
    replayer.replay()
    with sessions(engine)() as session:
        kept = session.scalar(select(Callback).where(Callback.call_id == "c2"))
        assert kept is not None and kept.status == "done"
