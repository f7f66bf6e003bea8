"""The keeper's decisions, with services that only pretend to run (no processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.settings import Settings
from services.keeper import Keeper, KeeperPolicy, read_state
from services.processes import BackgroundService, ServiceError


class PretendService(BackgroundService):
    """`pid()` and `up()` without processes: `running` says whether it is up."""

    def __init__(self, settings: Settings, name: str, fail_starts: int = 0) -> None:
        super().__init__(settings, name, [name], 1)
        self.running = True
        self.answering = True
        self.fail_starts = fail_starts
        self.starts = 0
        self.next_pid = 1000

    def pid(self) -> int | None:
        return self.next_pid if self.running else None

    def up(self) -> int:
        self.starts += 1
        if self.fail_starts:
            self.fail_starts -= 1
            raise ServiceError(f"{self.name} exited (code 1)")
        self.next_pid += 1
        self.running = True
        self.answering = True
        return self.next_pid


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env().with_changes(runtime_dir=tmp_path)


def keeper_of(services: list[PretendService], tmp_path: Path, clock: Clock) -> Keeper:
    return Keeper(services, tmp_path / "keeper.json", KeeperPolicy(hung_after_s=10,
                  backoff_s=1, max_backoff_s=8, stable_after_s=30), clock=clock,
                  answers=lambda s: isinstance(s, PretendService) and s.answering)


def test_a_dead_service_is_started_again_and_counted(settings: Settings,
                                                     tmp_path: Path) -> None:
    agi, speech = PretendService(settings, "fastagi"), PretendService(settings, "speech")
    clock = Clock()
    keeper = keeper_of([agi, speech], tmp_path, clock)
    assert keeper.check_once() == []
    agi.running = False
    clock.now += 40
    assert keeper.check_once() == ["fastagi"]
    assert agi.starts == 1 and speech.starts == 0
    state = read_state(tmp_path / "keeper.json")
    assert state["fastagi"]["restarts"] == 1 and state["fastagi"]["last_reason"] == "exited"
    assert state["fastagi"]["pid"] == 1001
    assert state["speech"]["restarts"] == 0


def test_a_service_that_stops_answering_is_killed_after_the_grace(settings: Settings,
                                                                  tmp_path: Path) -> None:
    agi = PretendService(settings, "fastagi")
    agi.next_pid = 2 ** 22 + 7  # no such process: the kill must not touch a real one
    clock = Clock()
    keeper = keeper_of([agi], tmp_path, clock)
    agi.answering = False
    assert keeper.check_once() == []
    clock.now += 5
    assert keeper.check_once() == []  # a slow moment is not a hang
    clock.now += 6
    assert keeper.check_once() == ["fastagi"]
    assert read_state(tmp_path / "keeper.json")["fastagi"]["last_reason"] == "hung"


def test_answering_again_clears_the_hang_clock(settings: Settings, tmp_path: Path) -> None:
    agi = PretendService(settings, "fastagi")
    clock = Clock()
    keeper = keeper_of([agi], tmp_path, clock)
    agi.answering = False
    keeper.check_once()
    clock.now += 9
    agi.answering = True
    keeper.check_once()
    agi.answering = False
    clock.now += 9
    assert keeper.check_once() == []
    assert agi.starts == 0


def test_a_service_that_keeps_dying_waits_longer_each_time(settings: Settings,
                                                           tmp_path: Path) -> None:
    agi = PretendService(settings, "fastagi", fail_starts=3)
    clock = Clock()
    keeper = keeper_of([agi], tmp_path, clock)
    agi.running = False
    tries_at = []
    for _second in range(20):
        before = agi.starts
        keeper.check_once()
        if agi.starts > before:
            tries_at.append(clock.now - 100)
        clock.now += 1
    # Fails at 0, waits 1, fails, waits 2, fails, waits 4, then starts.
    assert tries_at == [0, 1, 3, 7]
    assert agi.running and read_state(tmp_path / "keeper.json")["fastagi"]["restarts"] == 1


def test_a_crash_soon_after_a_restart_backs_off(settings: Settings, tmp_path: Path) -> None:
    agi = PretendService(settings, "fastagi")
    clock = Clock()
    keeper = keeper_of([agi], tmp_path, clock)
    restarted_at = []
    for half in range(80, 97):  # crashes whenever it is up, every 0.5 s from t=40 s to 48 s
        clock.now = 100 + half / 2
        agi.running = False
        if keeper.check_once():
            restarted_at.append(half / 2)
    # Up for 40 s: restarted at once; then each quick crash doubles the pause (1, 2, 4 s).
    assert restarted_at == [40.0, 40.5, 41.5, 43.5, 47.5]


def test_no_state_file_reads_as_nothing_restarted(tmp_path: Path) -> None:
    assert read_state(tmp_path / "missing.json") == {}
    (tmp_path / "broken.json").write_text("{not json")
    assert read_state(tmp_path / "broken.json") == {}
