"""Tells the SIPp callers what to do, when the hotline waits for them.

It watches Asterisk's AGI events: when a call's AGI program starts a command that waits for
the caller (bench.sip_plans.WAITING_COMMANDS), the caller takes its next turn a reaction time
later — its keys one by one, or its words — over SIPp's 3PCC twin socket (bench.sip_caller).
While a caller is still pressing a turn's keys, the hotline's next wait belongs to the same
turn (a number typed in one go). A caller the hotline has neither asked anything nor let go
for its patience (from the answer, then from each wait) hangs up.
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.sip_caller import HANG_UP_ACT, KEYS_ACT, SILENCE_BEFORE_MS, SOUND_ACTS, keys_play_ms
from bench.sip_plans import WAITING_COMMANDS, SipPlan
from pbx.ami import Event

REACTION_S = 0.4  # from the hotline starting to wait to the caller's first key or word
TWIN_DELIMITER = b"\x1b"  # SIPp ends every twin message with ESC


@dataclass
class CallerState:
    index: int  # in the plans (the calls' order, SIPp's injection rows)
    plan: SipPlan
    sipp_call: str | None = None  # SIPp's Call-ID, known once the call is answered
    uniqueid: str | None = None  # Asterisk's, known from the dialplan's BenchSipCall event
    answered_at: float | None = None
    last_asked_at: float | None = None  # the answer, then the hotline's latest wait
    turn: int = 0
    pending: list[str] = field(default_factory=list)  # acts of the turn being taken
    busy: bool = False  # an act sent, its Done not back yet
    ended: bool = False
    hung_up_by_caller: bool = False
    unexpected_waits: int = 0  # the hotline waited after the last turn (silence given)
    words_ended: list[float] = field(default_factory=list)  # epoch s, each answer by voice


class Director:
    def __init__(self, plans: list[SipPlan], sounds: dict[str, int], twin: tuple[str, int],
                 patience_s: float) -> None:
        """`sounds`: "say=<sound>" names in act order, each with the length of its words in
        ms; `twin`: the address to listen on for SIPp (port 0: any free one)."""
        self.callers = [CallerState(n, plan) for n, plan in enumerate(plans)]
        self.sounds = list(sounds)
        self.words_ms = sounds
        self.patience_s = patience_s
        self._twin_address = twin
        self._by_sipp: dict[str, CallerState] = {}
        self.traces: dict[str, list[str]] = {}  # per call: the waits and the acts
        self._by_uniqueid: dict[str, CallerState] = {}
        self._early_waits: dict[str, int] = {}  # waits seen before the plan was known
        self._lock = threading.Lock()
        self._timers: list[tuple[float, int, int]] = []  # (due, caller index, turn)
        self._sock: socket.socket | None = None
        self._server = socket.socket()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------

    def listen(self) -> tuple[str, int]:
        """The twin socket SIPp connects to as it starts (its first twin command is a
        sendCmd, which makes it the connecting side): listen before starting it."""
        self._server = socket.create_server(self._twin_address)
        self._server.settimeout(0.2)
        host, port = self._server.getsockname()[:2]
        return str(host), int(port)

    def accept(self, running: Callable[[], bool], deadline_s: float = 20.0) -> None:
        deadline = time.monotonic() + deadline_s
        while self._sock is None:
            try:
                self._sock, _peer = self._server.accept()
            except TimeoutError as exc:
                if time.monotonic() > deadline or not running():
                    raise RuntimeError("SIPp did not connect to its twin socket (see its "
                                       "errors.log in the run folder)") from exc
        self._server.close()
        self._sock.settimeout(0.2)
        for target, name in ((self._read_twin, "sip-twin"), (self._run_timers, "sip-timers")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(3)
        if self._sock is not None:
            self._sock.close()
        self._server.close()

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
            self._identified(event.get("Uniqueid", ""), event.get("Plan", ""))
        elif name == "DTMFEnd" and event.get("Direction") == "Received":
            self.trace(event.get("Uniqueid", ""), f"heard {event.get('Digit', '?')}")
        elif name == "AGIExecStart":
            verb = " ".join(event.get("Command", "").split(" ")[:2]).upper()
            if verb in WAITING_COMMANDS:
                self.trace(event.get("Uniqueid", ""), event.get("Command", "")[:48])
                self._hotline_waits(event.get("Uniqueid", ""))

    def _identified(self, uniqueid: str, plan: str) -> None:
        if not plan.isdigit() or int(plan) >= len(self.callers):
            return
        with self._lock:
            caller = self.callers[int(plan)]
            caller.uniqueid = uniqueid
            self._by_uniqueid[uniqueid] = caller
            early = self._early_waits.pop(uniqueid, 0)
        for _ in range(early):
            self._hotline_waits(uniqueid)

    def _hotline_waits(self, uniqueid: str) -> None:
        with self._lock:
            caller = self._by_uniqueid.get(uniqueid)
            if caller is None:
                self._early_waits[uniqueid] = self._early_waits.get(uniqueid, 0) + 1
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
            answer = caller.plan.turns[turn]
            if answer is None:
                return  # this turn the caller stays silent
            # A streaming line's prompt plays inside the wait: a caller lets it end.
            react_s = REACTION_S + caller.plan.prompt_ms / 1000
            heapq.heappush(self._timers, (time.monotonic() + react_s, caller.index, turn))

    # -- SIPp's side ------------------------------------------------------------------------

    def _acts(self, answer: str) -> list[str]:
        """A turn's twin commands (their headers after Call-ID)."""
        if answer.startswith("say="):
            return [f"Act: {SOUND_ACTS + self.sounds.index(answer)}"]
        return [f"Act: {KEYS_ACT}\r\nKeys: {answer}\r\nPlayMs: {keys_play_ms(answer)}"]

    def _run_timers(self) -> None:
        while not self._stop.wait(0.02):
            now = time.monotonic()
            due: list[tuple[int, int]] = []
            with self._lock:
                while self._timers and self._timers[0][0] <= now:
                    _at, index, turn = heapq.heappop(self._timers)
                    due.append((index, turn))
                patience = [c for c in self.callers if c.last_asked_at is not None
                            and not c.ended and not c.hung_up_by_caller
                            and now - c.last_asked_at > self.patience_s]
                for caller in patience:
                    caller.hung_up_by_caller = True
                    caller.pending = [f"Act: {HANG_UP_ACT}"]
            for index, turn in due:
                caller = self.callers[index]
                answer = caller.plan.turns[turn]
                assert answer is not None
                with self._lock:
                    caller.pending = self._acts(answer)
                self._send_next(caller)
            for caller in patience:
                self._send_next(caller)

    def _send_next(self, caller: CallerState) -> None:
        with self._lock:
            if caller.busy or not caller.pending or caller.sipp_call is None or caller.ended:
                return
            act = caller.pending.pop(0)
            self._trace(caller.uniqueid or "", act.split("\r\n")[1 if "Keys" in act else 0])
            number = int(act.split("\r\n")[0].removeprefix("Act: "))
            if number >= SOUND_ACTS and number != HANG_UP_ACT:
                words_ms = self.words_ms[self.sounds[number - SOUND_ACTS]]
                caller.words_ended.append(time.time() + (SILENCE_BEFORE_MS + words_ms) / 1000)
            caller.busy = act != f"Act: {HANG_UP_ACT}"  # a hang-up is answered by "ended"
            message = f"Call-ID: {caller.sipp_call}\r\n{act}\r\n\r\n".encode() + \
                TWIN_DELIMITER
        assert self._sock is not None
        self._sock.sendall(message)

    def _read_twin(self) -> None:
        buffer = b""
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return  # SIPp has finished
            buffer += chunk
            *messages, buffer = buffer.split(TWIN_DELIMITER)
            for message in messages:
                if message.strip():
                    self._twin_message(message.decode("utf-8", "replace"))

    def _twin_message(self, message: str) -> None:
        headers = dict(line.split(":", 1) for line in message.splitlines() if ":" in line)
        headers = {name.strip(): value.strip() for name, value in headers.items()}
        call, done = headers.get("Call-ID", ""), headers.get("Done", "")
        with self._lock:
            if done == "answered":
                plan = headers.get("Plan", "")
                if not plan.isdigit() or int(plan) >= len(self.callers):
                    return
                caller = self.callers[int(plan)]
                caller.sipp_call = call
                caller.answered_at = caller.last_asked_at = time.monotonic()
                self._by_sipp[call] = caller
                send = bool(caller.pending)
            else:
                found = self._by_sipp.get(call)
                if found is None:
                    return
                caller = found
                if done == "ended":
                    caller.ended = True
                    caller.pending = []
                caller.busy = False
                send = bool(caller.pending)
        if send:
            self._send_next(caller)
