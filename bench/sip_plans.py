"""What each SIP caller does, as turns: the hotline waits (a key, digits, a voice answer)
and the caller answers — or stays silent — once it does. Turns come from running the call
transcript through the interpreter with a caller who never types ahead or barges in (a
person who listens to each prompt to its end), so their order is the hotline's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.lines import SPEECH_LINE_KEY, SPEECH_STREAM_KEY, transcripts
from ivr.menu_loader import MenuSet
from ivr.outcomes import QueueCall
from ivr.transcripts import ScriptedCaller, Transcript, run_transcript

# The AGI commands with which the hotline waits for the caller (bench.measure names them
# by their first two words). A streaming line waits in AudioSocket, its prompt played there.
WAITING_COMMANDS = ("WAIT FOR", "GET DATA", "RECORD FILE", 'EXEC "AUDIOSOCKET"')
# The Korean line's words and the menu queues they lead to.
SPOKEN = (("caller/minwon", "complaints"), ("caller/net", "collections"),
          ("caller/sangdamwon", "general"))
SPEECH_CALLER = "13700000000"


@dataclass(frozen=True)
class SipPlan:
    key: str  # transcript, or the Korean line
    caller_number: str
    turns: tuple[str | None, ...]  # per wait: keys, "say=<sound>", or None (silence)
    outcome: str  # expected call outcome
    queue: str  # expected menu queue ("" when the call ends in the IVR)
    # A streaming line plays its prompt inside the wait: the caller lets it end first.
    prompt_ms: int = 0


@dataclass
class TurnCaller(ScriptedCaller):
    """A ScriptedCaller recording what it answered at each wait of the hotline's. A number
    is one turn however many waits read it (a key, then GET DATA for the rest): a person
    types it in one go once asked, and the hotline's waits while they type belong to it."""

    turns: list[str | None] | None = None
    _typing: bool = False  # the last wait took a key of a press, and no prompt came since

    def typed_ahead(self, escape_keys: str) -> str | None:
        return None  # keys come when the hotline waits for them

    def hear_prompt(self, prompt_id: str, language: str) -> None:
        super().hear_prompt(prompt_id, language)
        self._typing = False

    def wait_for_key(self, timeout_ms: int) -> str | None:
        continuing = self._typing and bool(self._keys)
        key = super().wait_for_key(timeout_ms)
        if self.turns is None:
            self.turns = []
        if continuing and key is not None and self.turns and self.turns[-1] is not None:
            self.turns[-1] += key
        else:
            self.turns.append(key)
        self._typing = key is not None
        return key


def plan_transcript(menus: MenuSet, name: str, transcript: Transcript) -> SipPlan:
    caller = TurnCaller(transcript)
    result = run_transcript(menus, transcript, caller)
    outcome = result.outcome
    if outcome is None or not result.passed:
        raise ValueError(f"{name}: the transcript does not pass without typing ahead: "
                         f"{result.failures[:2]}")
    queue = outcome.service if isinstance(outcome, QueueCall) else ""  # the record's queue
    return SipPlan(name, transcript.caller_number or "anonymous",
                   tuple(caller.turns or ()), outcome.kind.value, queue)


def sip_plans(menus: MenuSet, stream_prompt_ms: int) -> list[SipPlan]:
    """The keys callers' plans, then the Korean line's voice callers: one per word on the
    recording line and one per word on the streaming line, whose menu prompt lasts
    `stream_prompt_ms`."""
    plans = [plan_transcript(menus, name, transcript)
             for name, transcript in transcripts().items()]
    for key, prompt_ms in ((SPEECH_LINE_KEY, 0), (SPEECH_STREAM_KEY, stream_prompt_ms)):
        plans += [SipPlan(key, SPEECH_CALLER, (f"say={word}",), "queue", queue, prompt_ms)
                  for word, queue in SPOKEN]
    return plans
