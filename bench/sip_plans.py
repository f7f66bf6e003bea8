"""What each SIP caller does, as turns: the hotline waits (a key, digits, a voice answer)
and the caller answers — or stays silent — once it does. Turns come from running the call
transcript through the interpreter with a caller who never types ahead or barges in (a
person who listens to each prompt to its end), so their order is the hotline's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.lines import SPEECH_LINE_KEY, SPEECH_STREAM_KEY, transcripts
from ivr.menu_loader import MenuSet
from ivr.outcomes import Outcome, QueueCall
from ivr.ports import RecordedMessage
from ivr.transcripts import ScriptedCaller, Transcript, run_transcript

# The AGI commands with which the hotline waits for the caller (bench.measure names them
# by their first two words). A streaming line waits in AudioSocket, its prompt played there;
# a number is read by Read, which plays its prompts first (agi.channel.read_digits).
READ_COMMAND = 'EXEC "READ"'
WAITING_COMMANDS = ("WAIT FOR", "GET DATA", "RECORD FILE", 'EXEC "AUDIOSOCKET"', READ_COMMAND)
# The Korean line's words and the menu queues they lead to.
SPOKEN = (("caller/minwon", "complaints"), ("caller/net", "collections"),
          ("caller/sangdamwon", "general"))
SPEECH_CALLER = "13700000000"


# A turn of several acts, in order: a voice message ended with #, or in-band key tones
# ("play=<sound>", no pause after it) before the keys themselves.
ACT_SEPARATOR = "&"


@dataclass(frozen=True)
class SipPlan:
    key: str  # transcript, or the Korean line
    caller_number: str
    # Per wait: keys, "say=<sound>", or None (silence); or acts joined by ACT_SEPARATOR.
    turns: tuple[str | None, ...]
    outcome: str  # expected call outcome
    queue: str  # expected menu queue ("" when the call ends in the IVR)
    # A streaming line plays its prompt inside the wait: the caller lets it end first.
    prompt_ms: int = 0
    # Per turn, for a caller who knows the menus: the prompt it presses over (its sound's
    # end: '/yue/lang/choose_yue'), or None: at the wait.
    barge_at: tuple[str | None, ...] = ()
    # Once its last turn is taken, the caller talks: this sound over and over (audio for an
    # agent to hear), until the call ends or its patience runs out. `Local/` callers only.
    talk: str = ""


@dataclass
class TurnCaller(ScriptedCaller):
    """A ScriptedCaller recording what it answered at each wait of the hotline's. A number
    is one turn (one Read, or the keys after a press that cut a prompt): a person types it
    in one go once asked, and the hotline's waits while they type belong to it."""

    turns: list[str | None] | None = None
    barging: bool = False  # presses over a prompt once it has heard what it needs
    message_sound: str | None = None  # what the caller says when leaving a message
    barge_at: list[str | None] = field(default_factory=list)  # per turn
    _typing: bool = False  # the last wait took a key of a press, and no prompt came since

    def barge_in(self, prompt_id: str, language: str, escape_keys: str) -> str | None:
        if not self.barging or not escape_keys or not self.may_press_over(prompt_id):
            return None
        self._since_input.append(prompt_id)
        step = self._next_input()
        assert step is not None and step.press is not None  # what may_press_over checked
        # The first key; the rest joins the turn as the hotline's next waits read it.
        self._record(step.press[0], f'/{language}/{prompt_id.replace(".", "/")}')
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

    def record_message(self, purpose: str, max_duration_s: int,
                       silence_s: int) -> RecordedMessage | None:
        message = super().record_message(purpose, max_duration_s, silence_s)
        if message is None:
            self._record(None)  # the caller stays silent at the recording's wait
            return None
        if self.message_sound is None:
            raise ValueError(f"{self.transcript.name}: the caller leaves a message; plan the "
                             "call with a message_sound to speak it")
        # Ended with # as the prompt asks: a `Local/` caller who has stopped talking sends
        # no audio at all, so Asterisk's silence detection would never end the recording.
        self._record(f"say={self.message_sound}{ACT_SEPARATOR}#")
        self._typing = False
        return message

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
                    barging: bool = False, message_sound: str | None = None) -> SipPlan:
    """`barging`: a caller who knows the menus and presses over a prompt (the tests' callers,
    for shorter calls); otherwise one who listens to every prompt's end (the benchmarks').
    `message_sound`: what the caller says when the transcript leaves a message."""
    return plan_and_outcome(menus, name, transcript, barging, message_sound)[0]


def plan_and_outcome(menus: MenuSet, name: str, transcript: Transcript,
                     barging: bool = False,
                     message_sound: str | None = None) -> tuple[SipPlan, Outcome]:
    """The plan, and the outcome the interpreter alone gives the call (its queue, intent,
    language and path: what the real call's record must say)."""
    caller = TurnCaller(transcript, barging=barging, message_sound=message_sound)
    result = run_transcript(menus, transcript, caller)
    outcome = result.outcome
    if outcome is None or not result.passed:
        raise ValueError(f"{name}: the transcript does not pass without typing ahead: "
                         f"{result.failures[:2]}")
    queue = outcome.service if isinstance(outcome, QueueCall) else ""  # the record's queue
    plan = SipPlan(name, transcript.caller_number or "anonymous",
                   tuple(caller.turns or ()), outcome.kind.value, queue,
                   barge_at=tuple(caller.barge_at) if barging else ())
    return plan, outcome


def keys_of(plan: SipPlan) -> str:
    """Every key the plan's caller presses, in order (in-band tones and words left out)."""
    acts = [act for turn in plan.turns if turn for act in turn.split(ACT_SEPARATOR)]
    return "".join(act for act in acts if "=" not in act)


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
