# ruff: noqa: F811 - `world` is test_console's fixture, taken by name
"""The supervisors' wallboard: queues now from AMI QueueStatus (a strict fake here), today's
figures from the records, masked numbers only, supervisors and admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from console import auth
from console.app import ConsoleConfig, create_app
from console.wallboard import floor_state
from db.models import Call, QueueLeg
from pbx.ami import AmiError
from pbx.queue_board import QueueNow, WaitingCaller
from tests.unit.test_console import PASSWORD, SECRET, Clock, sign_in, world  # noqa: F401

pytestmark = pytest.mark.unit

STATUS = [
    {"Event": "QueueParams", "Queue": "collections-cmn", "Calls": "1"},
    {"Event": "QueueMember", "Queue": "collections-cmn", "Status": "1", "Paused": "0",
     "InCall": "0"},
    {"Event": "QueueMember", "Queue": "collections-cmn", "Status": "1", "Paused": "1",
     "InCall": "0"},
    {"Event": "QueueEntry", "Queue": "collections-cmn", "Position": "1",
     "CallerIDNum": "13911112222", "Wait": "17"},
    {"Event": "QueueStatusComplete"},
]


class FakeAmi:
    """Only what the wallboard may do: connect, mute events, ask QueueStatus, close."""

    def __init__(self, fail: bool = False) -> None:
        self.fail, self.open, self.history = fail, False, [{"Event": "x"}]
        self.asked: list[str] = []

    def __enter__(self) -> FakeAmi:
        self.connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def connect(self) -> None:
        if self.fail:
            raise AmiError("connection refused")
        self.open = True

    @property
    def connected(self) -> bool:
        return self.open

    def only_events(self, classes: str) -> None:
        assert self.open and classes == "off"

    def action_list(self, name: str, complete: str, **_headers: Any) -> list[dict[str, str]]:
        assert self.open and (name, complete) == ("QueueStatus", "QueueStatusComplete")
        self.asked.append(name)
        return STATUS

    def close(self) -> None:
        self.open = False


def console(engine: Engine, ami: FakeAmi | None) -> TestClient:
    return TestClient(create_app(ConsoleConfig(
        engine=engine, recordings_dir=Path("no-recordings-here"), number_secret=SECRET,
        now=Clock(), floor=(lambda: ami) if ami else None,  # type: ignore[arg-type,return-value]
        pop_every_s=0.01, stream_for_s=0.2)))


def test_supervisors_see_each_queue_now_and_today(world: dict[str, object]) -> None:
    engine: Engine = world["engine"]  # type: ignore[assignment]
    client = console(engine, FakeAmi())
    sign_in(client, "sup1")
    page = client.get("/wallboard").text
    row = page[page.index('data-queue="collections-cmn"'):]
    assert '<td class="waiting">1</td>' in row and '<td class="ready">1</td>' in row
    assert '<td class="paused">1</td>' in row and '<td class="answered">1</td>' in row
    assert "*******2222" in row and "13911112222" not in page
    with client.stream("GET", "/wallboard/events") as events:
        first = next(line for line in events.iter_lines() if line.startswith("data: "))
    floor = json.loads(first.removeprefix("data: "))
    assert floor["asterisk"] and floor["queues"][0]["longest_wait_s"] == 17
    assert floor["queues"][0]["service_level_today"] == 100.0
    assert floor["totals"] == {"waiting": 1, "longest_wait_s": 17, "answered_today": 1,
                               "abandoned_today": 0, "service_level_today": 100.0}
    assert "13911112222" not in first


def test_without_asterisk_the_day_s_figures_still_show(world: dict[str, object]) -> None:
    engine: Engine = world["engine"]  # type: ignore[assignment]
    client = console(engine, FakeAmi(fail=True))
    sign_in(client, "sup1")
    page = client.get("/wallboard").text
    assert "Asterisk 未响应" in page and 'class="bad" >' in page.replace("hidden", "")
    assert '<td class="answered">1</td>' in page


def test_only_supervisors_and_admins_see_the_floor(world: dict[str, object]) -> None:
    engine: Engine = world["engine"]  # type: ignore[assignment]
    qa = console(engine, FakeAmi())
    sign_in(qa, "qa1")
    assert qa.get("/wallboard").status_code == 403
    assert qa.get("/wallboard/events").status_code == 403
    assert "/wallboard" not in qa.get("/recordings").text  # no link to what they may not see
    admin = console(engine, FakeAmi())
    sign_in(admin, "admin1")
    assert admin.get("/wallboard").status_code == 200
    assert auth.PERMISSIONS["wallboard"] == {"supervisor", "admin"}


def test_queues_with_callers_waiting_come_first_and_idle_ones_last(engine: Engine) -> None:
    now = datetime(2026, 11, 23, 6, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        session.add(Call(call_id="t1", started_at=now - timedelta(hours=1)))
        session.flush()
        session.add(QueueLeg(call_id="t1", queue="loans-cmn", joined_at=now - timedelta(hours=1),
                             result="abandoned", wait_s=40))
    board = [QueueNow("a-idle", ready=2),
             QueueNow("cards-cmn", waiting=[WaitingCaller(1, "*******1111", 5)]),
             QueueNow("cards-yue", on_call=1),
             QueueNow("lost-cmn", waiting=[WaitingCaller(1, "*******2222", 50),
                                           WaitingCaller(2, "*******3333", 9)])]
    with Session(engine) as session:
        floor = floor_state(session, board, now, "Asia/Shanghai")
    order = [(q["queue"], q["idle"]) for q in floor["queues"]]
    assert order == [("lost-cmn", False), ("cards-cmn", False), ("cards-yue", False),
                     ("loans-cmn", False), ("a-idle", True)]
    assert floor["totals"] == {"waiting": 3, "longest_wait_s": 50, "answered_today": 0,
                               "abandoned_today": 1, "service_level_today": 0.0}
