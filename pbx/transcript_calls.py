"""Turn a call transcript into a scripted caller for real Asterisk: when to press which keys.

The transcript is first run through the interpreter by a caller that keeps time, using the
real length of every rendered prompt: keys are pressed one second into a prompt that accepts
them (barge-in), shortly after a prompt that does not, and silences last the menu's timeout.
The resulting timed presses drive `[hotline-scripted-caller]`. A recorded message (a complaint)
is spoken by playing a rendered prompt as the caller's voice, then ended with #.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.menu_loader import MenuSet
from ivr.ports import RecordedMessage
from ivr.transcripts import ScriptedCaller, Transcript, TranscriptResult, run_transcript
from pbx.calls import CallerScript

BARGE_IN_S = 1.0  # into an interruptible prompt: late enough that it is surely playing
AFTER_PROMPT_S = 0.4  # after the IVR starts waiting for a key
DTMF_KEY_S = 0.35  # SendDTMF: 250 ms between keys plus the tone itself
HANG_ON_S = 3.0  # the caller stays this long after the IVR should have finished
BEEP_S = 1.0  # from the recording prompt's end until the caller starts talking
SAY_PAUSE_S = 3.0  # [hotline-scripted-caller] is silent this long after each say=


@dataclass
class TimedCaller(ScriptedCaller):
    durations_ms: dict[str, int] = field(default_factory=dict)  # "<lang>/<prompt id>"
    clock_s: float = 0.0
    # (at second, keys or say=<sound>, seconds the action takes)
    presses: list[tuple[float, str, float]] = field(default_factory=list)
    message_sound: tuple[str, str] | None = None  # (language, prompt id) said as a message
    reaction_s: float = AFTER_PROMPT_S  # from the IVR starting to wait to the caller's press

    def hear_prompt(self, prompt_id: str, language: str) -> None:
        super().hear_prompt(prompt_id, language)
        self.clock_s += self.durations_ms.get(f"{language}/{prompt_id}", 0) / 1000

    def barge_in(self, prompt_id: str, language: str, escape_keys: str) -> str | None:
        if not escape_keys or not self.may_press_over(prompt_id):
            return None
        self._since_input.append(prompt_id)
        self.clock_s += BARGE_IN_S
        step = self._next_input()
        if step is None or step.press is None:
            return None
        self.presses.append((self.clock_s, step.press, DTMF_KEY_S * len(step.press)))
        self.clock_s += DTMF_KEY_S * len(step.press)
        self._keys = list(step.press[1:])
        return step.press[0]

    def pressed(self, keys: str) -> None:
        self.clock_s += self.reaction_s
        self.presses.append((self.clock_s, keys, DTMF_KEY_S * len(keys)))
        self.clock_s += DTMF_KEY_S * len(keys)

    def record_message(self, purpose: str, max_duration_s: int,
                       silence_s: int) -> RecordedMessage | None:
        message = super().record_message(purpose, max_duration_s, silence_s)
        if message is None:
            return None
        if self.message_sound is None:
            raise ValueError(f"{self.transcript.name}: the caller leaves a message; plan the "
                             "call with a message_prompt to speak it")
        language, prompt_id = self.message_sound
        spoken_s = self.durations_ms.get(f"{language}/{prompt_id}", 0) / 1000
        self.clock_s += BEEP_S
        self.presses.append((self.clock_s, f"say={language}/{prompt_id.replace('.', '/')}",
                             spoken_s + SAY_PAUSE_S))
        # Ended with # as the prompt asks: over a Local/ channel a silent caller sends no
        # audio at all, so Asterisk's silence detection would never end the recording.
        self.clock_s += spoken_s + SAY_PAUSE_S + AFTER_PROMPT_S
        self.presses.append((self.clock_s, "#", DTMF_KEY_S))
        self.clock_s += DTMF_KEY_S + AFTER_PROMPT_S
        return message

    def stayed_silent(self, timeout_ms: int) -> None:
        self.clock_s += timeout_ms / 1000


@dataclass(frozen=True)
class PlannedCall:
    script: CallerScript
    expected: TranscriptResult  # what the interpreter alone says must happen
    duration_s: float


def plan_call(menus: MenuSet, transcript: Transcript, durations_ms: dict[str, int],
              variables: tuple[str, ...] = (), queue_allowance_s: float = 0.0,
              message_prompt: tuple[str, str] | None = None,
              prompts_dir: str = "", reaction_s: float = AFTER_PROMPT_S) -> PlannedCall:
    """`queue_allowance_s`: stay longer when the call ends in a queue, for the live wait
    announcement (callers ahead, estimated wait) the menus alone cannot predict.
    `message_prompt` (language, prompt id): what the caller says when leaving a message,
    a rendered prompt under `prompts_dir`. `reaction_s`: how long after a prompt that cannot
    be interrupted ends the caller presses."""
    if not transcript.dtmf_only:
        raise ValueError(f"{transcript.name}: only keys-only transcripts can be dialled")
    caller = TimedCaller(transcript, durations_ms=durations_ms, message_sound=message_prompt,
                         reaction_s=reaction_s)
    expected = run_transcript(menus, transcript, caller)
    steps: list[tuple[float, str]] = []
    previous_end = 0.0
    for at_s, action, takes_s in caller.presses:
        steps.append((max(0.0, at_s - previous_end), action))
        previous_end = at_s + takes_s
    stay_s = caller.clock_s - previous_end + HANG_ON_S
    if expected.outcome is not None and expected.outcome.kind.value == "queue":
        stay_s += queue_allowance_s
    script = CallerScript(steps=tuple(steps), stay_s=round(stay_s, 2),
                          caller_number=transcript.caller_number or "anonymous",
                          variables=variables, sounds_dir=prompts_dir)
    return PlannedCall(script, expected, caller.clock_s)
