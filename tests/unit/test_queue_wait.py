"""What callers hear as they join a queue: callers ahead, estimated wait, callback offer."""

from __future__ import annotations

from pathlib import Path

import pytest

from agi import variables
from agi.dispatch import outcome_variables
from ivr.menu_loader import MenuSet
from ivr.nodes.queue import estimated_wait_s
from ivr.outcomes import QueueCall
from ivr.ports import QueueLoad
from ivr.transcripts import Transcript, load_transcript, run_transcript

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("load", "wait_s"), [
    (QueueLoad(waiting=0, ready_agents=1, logged_agents=3), 0),  # an agent is waiting
    (QueueLoad(waiting=2, ready_agents=3, logged_agents=3), 0),
    (QueueLoad(waiting=0, ready_agents=0, logged_agents=2), 180),
    (QueueLoad(waiting=5, ready_agents=0, logged_agents=2), 540),  # 6th in line, 2 agents
    (QueueLoad(waiting=3, ready_agents=0, logged_agents=0), 720),  # nobody logged in yet
])
def test_estimated_wait(load: QueueLoad, wait_s: int) -> None:
    assert estimated_wait_s(load, 180) == wait_s


def call(menus: MenuSet, language_key: str, waiting: int, ready: int = 0,
         then: list[dict[str, object]] | None = None, logged: int = 2) -> list[str]:
    transcript = Transcript.model_validate({
        "name": "t", "at": "2026-11-23T10:00:00+08:00",
        "queue_load": {"waiting": waiting, "ready_agents": ready, "logged_agents": logged},
        "steps": [{"press": language_key}, {"press": "2"}, {"press": "3"}, *(then or [])],
        "expect": {"outcome": "queue", "queue": "cards"}})
    result = run_transcript(menus, transcript)
    assert result.passed, result.failures
    return [prompt for prompt, _language in result.caller.played]


def test_callers_hear_their_place_and_wait_in_their_language(menus: MenuSet) -> None:
    played = call(menus, "1", waiting=3)  # 4th in line, 2 agents: 2 rounds of 3 minutes
    start = played.index("queue.ahead")
    assert played[start:start + 6] == ["queue.ahead", "say.d3", "queue.callers",
                                       "queue.wait", "say.d6", "queue.minutes"]


def test_with_nobody_ahead_the_caller_hears_the_wait_only(menus: MenuSet) -> None:
    played = call(menus, "1", waiting=0)  # 1st in line, both agents on calls
    assert "queue.ahead" not in played and "say.d0" not in played
    assert played[played.index("queue.wait"):][:3] == ["queue.wait", "say.d3", "queue.minutes"]


def test_with_no_agent_logged_in_no_wait_is_promised_and_a_callback_is_offered(
        menus: MenuSet) -> None:
    """Untrue: with nobody logged in, callers heard "0 ahead, about 3 minutes"."""
    played = call(menus, "1", waiting=0, logged=0, then=[{"press": "2"}])
    assert "queue.unstaffed" in played and "queue.callback_offer" in played
    assert not {"queue.ahead", "queue.wait", "queue.minutes"} & set(played)


def test_languages_without_figures_hear_a_plain_hold_message(menus: MenuSet) -> None:
    played = call(menus, "3", waiting=1)
    assert "queue.busy" in played and "queue.ahead" not in played


def test_nothing_is_announced_when_an_agent_is_free(menus: MenuSet) -> None:
    played = call(menus, "1", waiting=0, ready=1)
    assert not [p for p in played if p.startswith("queue.")]


def test_a_caller_who_declines_the_callback_keeps_waiting(menus: MenuSet) -> None:
    played = call(menus, "1", waiting=6, then=[{"press": "2"}])
    assert "queue.callback_offer" in played


def test_waiting_callers_are_told_the_way_back_to_the_main_menu(menus: MenuSet) -> None:
    """The queue node's `leave_to` reaches the dialplan (IVR_LEAVE_TO) as the node that *
    returns to; the lost-card queue has none, so * there keeps the caller in place."""
    routine = run_transcript(menus, Transcript.model_validate({
        "name": "t", "at": "2026-11-23T10:00:00+08:00",
        "steps": [{"press": "1"}, {"press": "2"}, {"press": "3"}],
        "expect": {"outcome": "queue", "queue": "cards"}}))
    lost = run_transcript(menus, Transcript.model_validate({
        "name": "t", "at": "2026-11-23T10:00:00+08:00", "steps": [{"press": "1"}, {"press": "1"}],
        "expect": {"outcome": "queue", "queue": "cards-priority"}}))
    assert isinstance(routine.outcome, QueueCall) and isinstance(lost.outcome, QueueCall)
    assert routine.outcome.leave_node == "main.menu"
    assert menus.nodes["main.menu"].kind == "menu"
    assert lost.outcome.leave_node == ""


@pytest.mark.parametrize(("name", "timeout", "no_agent"), [
    ("long-wait-callback", None, None),  # booked a callback: no queue call at all
    ("vip-priority", "300", "noagent.menu"),
    ("lost-card-mandarin", None, None),  # the card is not frozen yet: no time limit
])
def test_the_dialplan_learns_how_long_a_caller_waits_and_where_they_go_then(
        menus: MenuSet, name: str, timeout: str | None, no_agent: str | None) -> None:
    result = run_transcript(menus, load_transcript(ROOT / "menus" / "transcripts"
                                                   / f"{name}.yaml"))
    assert result.passed, result.failures
    assert result.outcome is not None
    values = outcome_variables(result.outcome)
    assert values.get(variables.IVR_QUEUE_TIMEOUT) == timeout
    assert values.get(variables.IVR_NO_AGENT) == no_agent
    if isinstance(result.outcome, QueueCall):
        assert values[variables.IVR_SERVICE] == result.outcome.service
