"""Tells the benchmark's callers what to do, when the hotline waits for them.

It watches Asterisk's AGI events: when a call's AGI program starts a command that waits for
the caller (bench.sip_plans.WAITING_COMMANDS), the caller takes its next turn a reaction time
later — its keys, or its words — over its line (a `CallerLine`: SIPp's twin socket for SIP
callers, bench.sip_twin; AMI for `Local/` callers, bench.local_callers). While a caller is
still pressing a turn's keys, the hotline's next wait belongs to the same turn (a number
typed in one go). A caller the hotline has neither asked anything nor let go for its
patience (from the answer, then from the end of each AGI command: a prompt, a wait) hangs
up: a caller left in silence, or in a queue, for that long.
"""

from __future__ import annotations

import functools
import heapq
import shlex
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bench.sip_plans import ACT_SEPARATOR, READ_COMMAND, WAITING_COMMANDS, SipPlan
from pbx.ami import Event

REACTION_S = 0.4  # from the hotline starting to wait to the caller's first key or word


def sounds_of(command: str) -> list[str]:
    """The sounds an AGI command plays: STREAM FILE's, or the prompts of a Read (EXEC
    "Read" "<variable>,<sound>&<sound>,...")."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    verb = " ".join(words[:2]).upper()
    if verb == "STREAM FILE" and len(words) > 2:
        return [words[2]]
    if verb == "EXEC READ" and len(words) > 2:
        arguments = words[2].split(",")
        return [sound for sound in arguments[1].split("&") if sound] \
            if len(arguments) > 1 else []
    return []


@functools.lru_cache(maxsize=4096)
def prompt_ms(sound: str) -> int:
    """A rendered prompt's length (its .wav); 0 for anything else (Asterisk's silence)."""
    try:
        with wave.open(f"{sound}.wav", "rb") as audio:
            return audio.getnframes() * 1000 // audio.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0


@dataclass(frozen=True)
class Act:
    kind: Literal["keys", "say", "play", "talk", "hang_up"]
    keys: str = ""
    # "say=<sound>" (words, then a pause), "play=<sound>" (in-band tones), or the sound a
    # "talk" plays over and over (never reported done)
    sound: str = ""


class CallerLine(Protocol):
    """How acts reach the callers. It reports back to the director: `answered`, `act_done`
    (the act has been played), `call_ended`."""

    lead_ms: int  # what the line plays before a sound's words (SIP: silence, for strict RTP)

    def send(self, line_id: str, act: Act) -> None: ...


@dataclass
class CallerState:
    index: int  # in the plans (the calls' order)
    plan: SipPlan
    line_id: str | None = None  # the line's name for the call, known once it is answered
    uniqueid: str | None = None  # Asterisk's, for the hotline's leg
    answered_at: float | None = None
    last_asked_at: float | None = None  # the answer, then the hotline's latest AGI step
    in_step: bool = False  # an AGI command is running on the call (the patience waits)
    turn: int = 0
    pending: list[Act] = field(default_factory=list)  # acts of the turn being taken
    busy: bool = False  # an act sent, not reported done yet
    ended: bool = False
    hung_up_by_caller: bool = False
    talking: bool = False  # every turn taken: talking on (plan.talk)
    unexpected_waits: int = 0  # the hotline waited after the last turn (silence given)
    words_ended: list[float] = field(default_factory=list)  # epoch s, each answer by voice


class Director:
    def __init__(self, plans: list[SipPlan], words_ms: dict[str, int],
                 patience_s: float, sound_ms: Callable[[str], int] | None = None) -> None:
        """`words_ms`: each "say=<sound>" with the length of its words in ms; `sound_ms`:
        how long a prompt the hotline plays lasts (default: its rendered .wav)."""
        self.sound_ms = sound_ms or prompt_ms
        self.callers = [CallerState(n, plan) for n, plan in enumerate(plans)]
        self.words_ms = words_ms
        self.patience_s = patience_s
        self.line: CallerLine | None = None
        self.traces: dict[str, list[str]] = {}  # per call: the waits and the acts
        self._by_line: dict[str, CallerState] = {}
        self._by_uniqueid: dict[str, CallerState] = {}
        # Waits seen before the plan was known (each with its prompts' seconds).
        self._early_waits: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._timers: list[tuple[float, int, int]] = []  # (due, caller index, turn)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run_timers, name="bench-director",
                                        daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, line: CallerLine) -> None:
        self.line = line
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(3)

    def trace(self, uniqueid: str, what: str) -> None:
        with self._lock:
            self._trace(uniqueid, what)

    def _trace(self, uniqueid: str, what: str) -> None:  # the lock held
        self.traces.setdefault(uniqueid, []).append(f"{time.monotonic():.1f}:{what}")

    def ended_count(self) -> int:
        with self._lock:
            return sum(1 for caller in self.callers if caller.ended)

    def uniqueids(self) -> list[str]:
        with self._lock:
            return [c.uniqueid for c in self.callers if c.uniqueid]

    # -- Asterisk's side (the EventLog's reading thread) -----------------------------------

    def on_event(self, event: Event) -> None:
        name = event.get("Event", "")
        if name == "UserEvent" and event.get("UserEvent") == "BenchSipCall":
            plan = event.get("Plan", "")
            if plan.isdigit():
                self.identified(int(plan), event.get("Uniqueid", ""))
        elif name == "DTMFEnd" and event.get("Direction") == "Received":
            self.trace(event.get("Uniqueid", ""), f"heard {event.get('Digit', '?')}")
        elif name in ("AGIExecStart", "AGIExecEnd"):
            uniqueid, command = event.get("Uniqueid", ""), event.get("Command", "")
            self._hotline_step(uniqueid, running=name == "AGIExecStart")
            verb = " ".join(command.split(" ")[:2]).upper()
            if name != "AGIExecStart":
                return
            if verb == READ_COMMAND:
                # Read plays its prompts, then waits: the caller presses over one of them,
                # or once their words end.
                sounds = sounds_of(command)
                if not self._hotline_prompts(uniqueid, sounds):
                    self.trace(uniqueid, command[:48])
                    self._hotline_waits(uniqueid, after_s=self._words_s(sounds))
            elif verb in WAITING_COMMANDS:
                self.trace(uniqueid, command[:48])
                self._hotline_waits(uniqueid)
            elif verb == "STREAM FILE":
                self._hotline_prompts(uniqueid, sounds_of(command))

    def _words_s(self, sounds: list[str]) -> float:
        return sum(self.sound_ms(sound) for sound in sounds) / 1000

    def _hotline_prompts(self, uniqueid: str, sounds: list[str]) -> bool:
        """A caller who knows the menus presses over the prompt its plan names (it may still
        be pressing the last turn's keys: this prompt shows the hotline has moved on).
        Whether it will."""
        with self._lock:
            caller = self._by_uniqueid.get(uniqueid)
            if caller is None or caller.turn >= len(caller.plan.barge_at):
                return False
            barge_at = caller.plan.barge_at[caller.turn]
            over = next((n for n, sound in enumerate(sounds)
                         if barge_at is not None and sound.endswith(barge_at)), None)
            if over is None:
                return False
            self._trace(uniqueid, f"over {barge_at}")
            turn = caller.turn
            caller.turn += 1
            # The prompts before it play first (a Read plays several).
            due = time.monotonic() + self._words_s(sounds[:over]) + REACTION_S
            heapq.heappush(self._timers, (due, caller.index, turn))
            return True

    def _hotline_step(self, uniqueid: str, running: bool) -> None:
        """While an AGI command runs (a prompt, a wait) the caller is being spoken to or
        asked; their patience counts from its end."""
        with self._lock:
            caller = self._by_uniqueid.get(uniqueid)
            if caller is not None and caller.last_asked_at is not None:
                caller.in_step = running
                caller.last_asked_at = time.monotonic()

    def identified(self, index: int, uniqueid: str) -> None:
        """Plan `index`'s call is `uniqueid` in Asterisk."""
        if not 0 <= index < len(self.callers):
            return
        with self._lock:
            caller = self.callers[index]
            caller.uniqueid = uniqueid
            self._by_uniqueid[uniqueid] = caller
            early = self._early_waits.pop(uniqueid, [])
        for after_s in early:
            self._hotline_waits(uniqueid, after_s)

    def _hotline_waits(self, uniqueid: str, after_s: float = 0.0) -> None:
        """The hotline waits for the caller, once `after_s` of its prompts have played."""
        with self._lock:
            caller = self._by_uniqueid.get(uniqueid)
            if caller is None:
                self._early_waits.setdefault(uniqueid, []).append(after_s)
                return
            if caller.last_asked_at is not None:
                caller.last_asked_at = time.monotonic()
            if caller.busy or caller.pending:
                return  # still taking the turn: this wait is part of it
            if caller.turn >= len(caller.plan.turns):
                caller.unexpected_waits += 1
                return
            turn = caller.turn
            caller.turn += 1
            if caller.plan.turns[turn] is None:
                return  # this turn the caller stays silent
            # A streaming line's prompt plays inside the wait: a caller lets it end.
            react_s = REACTION_S + after_s + caller.plan.prompt_ms / 1000
            heapq.heappush(self._timers, (time.monotonic() + react_s, caller.index, turn))

    # -- the line's side --------------------------------------------------------------------

    def answered(self, index: int, line_id: str) -> None:
        """Plan `index`'s caller is on the line as `line_id`."""
        if not 0 <= index < len(self.callers):
            return
        with self._lock:
            caller = self.callers[index]
            caller.line_id = line_id
            caller.answered_at = caller.last_asked_at = time.monotonic()
            self._by_line[line_id] = caller
        self._send_next(caller)

    def act_done(self, line_id: str) -> None:
        self._finished(line_id, ended=False)

    def call_ended(self, line_id: str) -> None:
        self._finished(line_id, ended=True)

    def _finished(self, line_id: str, ended: bool) -> None:
        with self._lock:
            caller = self._by_line.get(line_id)
            if caller is None:
                return
            if ended:
                caller.ended = True
                caller.pending = []
            caller.busy = False
            if not caller.ended and caller.plan.talk and not caller.talking \
                    and not caller.pending and caller.turn >= len(caller.plan.turns):
                caller.talking = True
                caller.pending.append(Act("talk", sound=caller.plan.talk))
        self._send_next(caller)

    @staticmethod
    def _acts(answer: str) -> list[Act]:
        acts = []
        for part in answer.split(ACT_SEPARATOR):
            if part.startswith("say="):
                acts.append(Act("say", sound=part))
            elif part.startswith("play="):
                acts.append(Act("play", sound=part))
            else:
                acts.append(Act("keys", keys=part))
        return acts

    def _run_timers(self) -> None:
        while not self._stop.wait(0.02):
            now = time.monotonic()
            due: list[CallerState] = []
            with self._lock:
                while self._timers and self._timers[0][0] <= now:
                    _at, index, turn = heapq.heappop(self._timers)
                    caller = self.callers[index]
                    answer = caller.plan.turns[turn]
                    assert answer is not None
                    caller.pending += self._acts(answer)
                    due.append(caller)
                for caller in self.callers:
                    if caller.last_asked_at is not None and not caller.ended \
                            and not caller.hung_up_by_caller and not caller.in_step \
                            and now - caller.last_asked_at > self.patience_s:
                        caller.hung_up_by_caller = True
                        caller.pending = [Act("hang_up")]
                        due.append(caller)
            for caller in due:
                self._send_next(caller)

    def _send_next(self, caller: CallerState) -> None:
        assert self.line is not None, "start the director with its line first"
        with self._lock:
            if caller.busy or not caller.pending or caller.line_id is None or caller.ended:
                return
            act = caller.pending.pop(0)
            self._trace(caller.uniqueid or "", act.keys or act.sound or act.kind)
            if act.kind == "say":
                words_s = (self.line.lead_ms + self.words_ms.get(act.sound, 0)) / 1000
                caller.words_ended.append(time.time() + words_s)
            # A hang-up is answered by the call's end; talk goes on until then.
            caller.busy = act.kind not in ("hang_up", "talk")
            line_id = caller.line_id
        self.line.send(line_id, act)
