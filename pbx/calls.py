"""Place scripted calls through real Asterisk and trace what happened on them.

A call is a `Local/` channel: one leg runs `[hotline-inbound]` exactly like a call from the
network, the other runs `[hotline-scripted-caller]` (listen, press keys, stay or hang up).
The trace is built from AMI events of the hotline leg; the call ends with the
`HotlineCallEnded` user event from the dialplan's hang-up handler.
"""

from __future__ import annotations

import shutil
import time
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path

from agi import variables
from pbx.ami import Ami, Event

HOTLINE_CONTEXT = "hotline-inbound"
CALLER_CONTEXT = "hotline-scripted-caller"


@dataclass(frozen=True)
class CallerScript:
    keys: str = ""
    wait_s: float = 1.0
    stay_s: float = 30.0
    # Timed actions instead of `keys`: (seconds to wait first, keys or "say=<sound>"), in
    # order; sounds are under `sounds_dir`.
    steps: tuple[tuple[float, str], ...] = ()
    sounds_dir: str = ""
    caller_number: str = "13800000000"
    variables: tuple[str, ...] = ()  # extra NAME=value for the hotline leg (inherited)
    record_to: str = ""  # file stem: the caller leg records what it hears (audio tests)
    talk: str = ""  # a sound (absolute stem) the caller keeps saying after the steps

    def channel_variables(self) -> list[str]:
        steps = "_".join(f"{wait:.2f}:{keys}" for wait, keys in self.steps)
        return [f"{variables.CALLER_KEYS}={self.keys}",
                f"{variables.CALLER_WAIT_S}={self.wait_s:g}",
                f"{variables.CALLER_STAY_S}={self.stay_s:g}",
                f"{variables.CALLER_STEPS}={steps}",
                f"{variables.CALLER_RECORD}={self.record_to}",
                f"{variables.CALLER_SOUNDS}={self.sounds_dir}",
                f"{variables.CALLER_TALK}={self.talk}",
                *(f"__{v}" for v in self.variables)]


@dataclass
class CallTrace:
    hotline_id: str
    caller_id: str
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # context, app, data
    agi_commands: list[tuple[str, str]] = field(default_factory=list)  # command, result
    keys_received: str = ""  # DTMF the hotline leg heard (scripted callers only: never PII)
    ivr_variables: dict[str, str] = field(default_factory=dict)
    ended: Event = field(default_factory=dict)

    @property
    def contexts(self) -> list[str]:
        seen: list[str] = []
        for context, _app, _data in self.steps:
            if not seen or seen[-1] != context:
                seen.append(context)
        return seen

    @property
    def outcome(self) -> str:
        return self.ended.get("Outcome", "")

    @property
    def failure(self) -> str:
        return self.ended.get("Failure", "")


def place_call(ami: Ami, script: CallerScript, *, timeout_s: float = 60.0) -> CallTrace:
    """Originate one scripted call and wait until the hotline leg has hung up."""
    return finish_call(ami, start_call(ami, script, timeout_s=timeout_s), timeout_s)


def place_calls(ami: Ami, scripts: list[CallerScript], *,
                timeout_s: float = 120.0) -> list[CallTrace]:
    """Several scripted calls at once (they run concurrently in Asterisk)."""
    traces = [start_call(ami, script, timeout_s=timeout_s) for script in scripts]
    return [finish_call(ami, trace, timeout_s) for trace in traces]


def start_call(ami: Ami, script: CallerScript, *, timeout_s: float = 60.0) -> CallTrace:
    token = uuid.uuid4().hex[:16]
    trace = CallTrace(hotline_id=f"hotline-{token}", caller_id=f"caller-{token}")
    ami.action(
        "Originate",
        Channel=f"Local/s@{HOTLINE_CONTEXT}",
        Context=CALLER_CONTEXT, Exten="s", Priority="1",
        ChannelId=trace.caller_id, OtherChannelId=trace.hotline_id,
        CallerID=f"Scripted caller <{script.caller_number}>",
        Timeout=str(int(timeout_s * 1000)), Async="true",
        Variable=script.channel_variables(),
    )
    return trace


def finish_call(ami: Ami, trace: CallTrace, timeout_s: float) -> CallTrace:
    trace.ended = ami.wait_for(
        lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "HotlineCallEnded"
        and e.get("Uniqueid") == trace.hotline_id, timeout_s)
    for event in ami.drain():
        if event.get("Uniqueid") != trace.hotline_id:
            continue
        name = event.get("Event")
        if name == "Newexten":
            trace.steps.append((event.get("Context", ""), event.get("Application", ""),
                                event.get("AppData", "")))
        elif name == "DTMFEnd" and event.get("Direction") == "Received":
            trace.keys_received += event.get("Digit", "")
        elif name == "AGIExecEnd":
            trace.agi_commands.append((event.get("Command", ""), event.get("Result", "")))
        elif name == "VarSet" and event.get("Variable") in variables.ALL:
            trace.ivr_variables[event["Variable"]] = event.get("Value", "")
    return trace


AUDIO_SETTLE_S = 0.5  # the file has stopped growing for this long: Asterisk closed it


def save_caller_audio(stem: Path, target: Path, timeout_s: float = 20.0) -> Path:
    """Copy what the scripted caller heard (MixMonitor on the caller leg writes
    `<stem>.wav`) to `target` once Asterisk has finished it: its header counts every sample
    and it has stopped growing. Raises TimeoutError when it never does."""
    source = stem.with_suffix(".wav")
    deadline = time.monotonic() + timeout_s
    last_size = -1
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        size = source.stat().st_size if source.is_file() else -1
        if size != last_size:
            last_size, stable_since = size, time.monotonic()
        elif size > 0 and _complete(source) and \
                time.monotonic() - stable_since >= AUDIO_SETTLE_S:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            source.unlink()
            return target
        time.sleep(0.1)
    raise TimeoutError(f"the caller's audio ({source}) was not finished in {timeout_s:.0f} s")


def _complete(wav: Path) -> bool:
    try:
        with wave.open(str(wav), "rb") as audio:
            expected = audio.getnframes() * audio.getsampwidth() * audio.getnchannels()
        return audio.getnframes() > 0 and wav.stat().st_size >= expected
    except (OSError, EOFError, wave.Error):
        return False
