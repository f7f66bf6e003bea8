"""The `Local/` benchmark's callers: each call is a `Local/` channel whose one leg runs
[hotline-inbound] and whose other leg, the caller, runs the benchmark's
[hotline-bench-local-caller] (tests/dialplan): it listens until the director tells it to act,
as a SIP caller does (bench.director). Acts go over AMI: a Redirect of the caller's leg to
press keys or say a word, a Hangup when its patience has run out. The dialplan reports back
with user events: the caller on the line, each act played; the hotline's leg its end."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.director import Act, Director
from bench.measure import EventLog
from bench.sip_plans import SipPlan
from pbx.ami import Ami, AmiError, Event
from pbx.calls import HOTLINE_CONTEXT

CALLER_CONTEXT = "hotline-bench-local-caller"


class LocalCallers:
    lead_ms = 0  # the caller's words start as its Playback does

    def __init__(self, director: Director, ami: Ami, sounds_dir: Path) -> None:
        """`ami`: a connection of the callers' own (actions only)."""
        self.director = director
        self.ami = ami
        self.sounds_dir = sounds_dir
        self.failed_acts: list[str] = []  # an act Asterisk refused (the caller leg gone)
        self._caller_of: dict[str, str] = {}  # the hotline leg's uniqueid → the caller leg's
        self._lock = threading.Lock()

    def place(self, index: int, plan: SipPlan, agi_url: str | None = None,
              variables: tuple[str, ...] = ()) -> str:
        """Originate plan `index`'s call (served from `agi_url`, else the dialplan's own
        FastAGI address; `variables`: NAME=value the hotline leg inherits); the hotline
        leg's uniqueid."""
        token = uuid.uuid4().hex[:16]
        hotline, caller = f"hotline-{token}", f"caller-{token}"
        with self._lock:
            self._caller_of[hotline] = caller
        self.director.identified(index, hotline)
        self.ami.action(
            "Originate", Channel=f"Local/s@{HOTLINE_CONTEXT}", Context=CALLER_CONTEXT,
            Exten="s", Priority="1", ChannelId=caller, OtherChannelId=hotline,
            CallerID=f"Bench caller <{plan.caller_number}>", Timeout="30000", Async="true",
            Variable=[f"BENCH_PLAN={index}", f"BENCH_SOUNDS={self.sounds_dir}",
                      *([f"__HOTLINE_AGI_URL={agi_url}"] if agi_url else []),
                      *(f"__{variable}" for variable in variables)])
        return hotline

    def send(self, line_id: str, act: Act) -> None:
        try:
            if act.kind == "hang_up":
                self.ami.action("Hangup", Channel=line_id)
                return
            if act.kind == "keys":
                variable, value, exten = "BENCH_KEYS", act.keys, "keys"
            elif act.kind == "talk":
                variable, value, exten = "BENCH_SOUND", act.sound, "talk"
            else:  # say= or play=: the sound's name after the prefix, the kind its exten
                variable, value, exten = "BENCH_SOUND", act.sound.split("=", 1)[1], act.kind
            self.ami.action("Setvar", Channel=line_id, Variable=variable, Value=value)
            self.ami.action("Redirect", Channel=line_id, Context=CALLER_CONTEXT, Exten=exten,
                            Priority="1")
        except AmiError as exc:
            with self._lock:
                self.failed_acts.append(f"{line_id} {act.kind}: {exc}")
            self.director.act_done(line_id)  # nothing is playing: the caller is free again

    def and_then(self, listener: Callable[[Event], None]) -> Callable[[Event], None]:
        """An event listener that tells this line, then `listener`."""
        def both(event: Event) -> None:
            self.on_event(event)
            listener(event)
        return both

    def on_event(self, event: Event) -> None:
        """Told of every event the benchmark's EventLog reads."""
        if event.get("Event") != "UserEvent":
            return
        kind = event.get("UserEvent")
        if kind == "BenchLocalCall" and event.get("Plan", "").isdigit():
            self.director.answered(int(event["Plan"]), event.get("Caller", ""))
        elif kind == "BenchActDone":
            self.director.act_done(event.get("Caller", ""))
        elif kind == "HotlineCallEnded":
            with self._lock:
                caller = self._caller_of.get(event.get("Uniqueid", ""))
            if caller is not None:
                self.director.call_ended(caller)


@dataclass
class PlacedCalls:
    """Calls on their way (`local_calls`): the hotline legs' uniqueids, in the plans' order."""

    hotlines: list[str]
    director: Director
    events: EventLog

    def wait(self, timeout_s: float) -> None:
        """Until every call has ended. Raises TimeoutError, saying what the calls left did."""
        deadline = time.monotonic() + timeout_s
        while self.director.ended_count() < len(self.hotlines):
            if time.monotonic() > deadline:
                raise TimeoutError(f"calls did not end in {timeout_s:.0f} s: " + "; ".join(
                    _unended(self.director, self.events, hotline) for hotline, caller
                    in zip(self.hotlines, self.director.callers, strict=True)
                    if not caller.ended))
            time.sleep(0.1)


@contextmanager
def local_calls(open_ami: Callable[[], Ami], plans: list[SipPlan], patience_s: float,
                sounds_dir: Path = Path("/nonexistent"),
                variables: list[tuple[str, ...]] | None = None) -> Iterator[PlacedCalls]:
    """Calls by callers who act when the hotline waits and hang up `patience_s` after the
    hotline last asked them anything (in a queue: how long they stay), directed while the
    block runs. `variables`: per plan, NAME=value for the hotline leg."""
    director = Director(plans, {}, patience_s)
    with open_ami() as event_ami, open_ami() as act_ami:
        act_ami.only_events("off")
        line = LocalCallers(director, act_ami, sounds_dir)
        events = EventLog(event_ami, line.and_then(director.on_event)).start()
        director.start(line)
        try:
            yield PlacedCalls([line.place(index, plan,
                                          variables=variables[index] if variables else ())
                               for index, plan in enumerate(plans)], director, events)
        finally:
            director.stop()
            events.stop()


def calls_and_wait(open_ami: Callable[[], Ami], plans: list[SipPlan], patience_s: float,
                   timeout_s: float, sounds_dir: Path = Path("/nonexistent"),
                   variables: list[tuple[str, ...]] | None = None) -> list[str]:
    """`local_calls`, from origination until every one has ended; the hotline legs'
    uniqueids. Raises TimeoutError when a call never ends. A slow machine only makes the
    calls longer."""
    with local_calls(open_ami, plans, patience_s, sounds_dir, variables) as calls:
        calls.wait(timeout_s)
    return calls.hotlines


def _unended(director: Director, events: EventLog, hotline: str) -> str:
    """What a call that never ended did: its waits and acts, its last AGI commands."""
    commands = [c for s in events.sessions.get(hotline, []) for c in s.commands]
    return (f"{hotline}: {director.traces.get(hotline, [])}; last commands: "
            f"{[verb for _s, _e, verb, _r in commands[-4:]]}")
