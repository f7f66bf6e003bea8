"""The starter flow, driven by a scripted fake channel."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import pytest

from ivr.errors import CallerHungUp
from ivr.outcomes import CallSummary, HangUp, OutcomeKind, QueueCall
from ivr.ports import DigitEntry
from tests.starter import run_starter


class ScriptedChannel:
    """Plays back the caller's keys: one entry per play()/wait_for_key() call."""

    call_id = "test-call"

    def __init__(self, *keys: str | None) -> None:
        self.keys = deque(keys)
        self.played: list[str] = []

    def _next(self) -> str | None:
        if not self.keys:
            raise CallerHungUp("script ran out")
        return self.keys.popleft()

    def play(self, sound: str, escape_keys: str = "") -> str | None:
        self.played.append(sound)
        return self._next()

    def wait_for_key(self, timeout_ms: int) -> str | None:
        return self._next()

    def get_variable(self, name: str) -> str | None:
        return None

    def set_variable(self, name: str, value: str) -> None:
        return None

    def read_digits(self, sounds: Sequence[str], entry: DigitEntry) -> str | None:
        raise AssertionError("the starter flow reads one key at a time")

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        raise AssertionError("the starter flow records nothing")


def test_key_during_greeting_is_the_choice() -> None:
    assert run_starter(ScriptedChannel("3")) == HangUp(
        summary=CallSummary(reason="choice-made", choice="3"))


def test_key_after_greeting_is_the_choice() -> None:
    assert run_starter(ScriptedChannel(None, "7")).choice == "7"


def test_zero_reaches_an_agent() -> None:
    outcome = run_starter(ScriptedChannel("0"))
    assert isinstance(outcome, QueueCall) and outcome.queue == "fallback"


def test_silence_reprompts_once_then_reaches_an_agent() -> None:
    channel = ScriptedChannel(None, None, None, None)
    outcome = run_starter(channel)
    assert channel.played == ["hello-world", "please-try-again"]
    assert (outcome.kind, outcome.reason) == (OutcomeKind.QUEUE, "no-input")


def test_hangup_propagates() -> None:
    with pytest.raises(CallerHungUp):
        run_starter(ScriptedChannel())
