"""What each SIP caller does, as turns: the hotline waits (a key, digits, a voice answer)
and the caller answers — or stays silent — once it does. Turns come from running the call
transcript through the interpreter with a caller who never types ahead or barges in (a
person who listens to each prompt to its end), so their order is the hotline's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    # Per turn, for a caller who knows the menus: the prompt it presses over (its path's
    # end, as in STREAM FILE: '/prompts/yue/lang/choose_yue"'), or None: at the wait.
    barge_at: tuple[str | None, ...] = ()


@dataclass
class TurnCaller(ScriptedCaller):
    """A ScriptedCaller recording what it answered at each wait of the hotline's. A number
    is one turn however many waits read it (a key, then GET DATA for the rest): a person
    types it in one go once asked, and the hotline's waits while they type belong to it."""

    turns: list[str | None] | None = None
    barging: bool = False  # presses over a prompt once it has heard what it needs
    barge_at: list[str | None] = field(default_factory=list)  # per turn
    _typing: bool = False  # the last wait took a key of a press, and no prompt came since

    def barge_in(self, prompt_id: str, language: str, escape_keys: str) -> str | None:
        if not self.barging or not escape_keys or not self.may_press_over(prompt_id):
            return None
        self._since_input.append(prompt_id)
        step = self._next_input()
        assert step is not None and step.press is not None  # what may_press_over checked
        # The first key; the rest joins the turn as the hotline's next waits read it.
        self._record(step.press[0], f'/prompts/{language}/{prompt_id.replace(".", "/")}"')
        self._keys = list(step.press[1:])
        self._typing = True
        return step.press[0]

    def _record(self, turn: str | None, barge_at: str | None = None) -> None:
        if self.turns is None:
            self.turns = []
        self.turns.append(turn)
        self.barge_at.append(barge_at)

    def typed_ahead(self, escape_keys: str) -> str | None:
        return None  # keys come when the hotline waits for them

    def hear_prompt(self, prompt_id: str, language: str) -> None:
        super().hear_prompt(prompt_id, language)
        self._typing = False

    def wait_for_key(self, timeout_ms: int) -> str | None:
        continuing = self._typing and bool(self._keys)
        key = super().wait_for_key(timeout_ms)
        if continuing and key is not None and self.turns and self.turns[-1] is not None:
            self.turns[-1] += key
        else:
            self._record(key)
        self._typing = key is not None
        return key


def plan_transcript(menus: MenuSet, name: str, transcript: Transcript,
                    barging: bool = False) -> SipPlan:
    """`barging`: a caller who knows the menus and presses over a prompt (the tests' callers,
    for shorter calls); otherwise one who listens to every prompt's end (the benchmarks')."""
    caller = TurnCaller(transcript, barging=barging)
    result = run_transcript(menus, transcript, caller)
    outcome = result.outcome
    if outcome is None or not result.passed:
        raise ValueError(f"{name}: the transcript does not pass without typing ahead: "
                         f"{result.failures[:2]}")
    queue = outcome.service if isinstance(outcome, QueueCall) else ""  # the record's queue
    return SipPlan(name, transcript.caller_number or "anonymous",
                   tuple(caller.turns or ()), outcome.kind.value, queue,
                   barge_at=tuple(caller.barge_at) if barging else ())


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
