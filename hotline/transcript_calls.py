"""Turn a call transcript into a scripted caller for real Asterisk: when to press which keys.

The transcript is first run through the interpreter by a caller that keeps time, using the
real length of every rendered prompt: keys are pressed one second into a prompt that accepts
them (barge-in), shortly after a prompt that does not, and silences last the menu's timeout.
The resulting timed presses drive `[hotline-scripted-caller]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.calls import CallerScript
from ivr.menu_loader import MenuSet
from ivr.transcripts import ScriptedCaller, Transcript, TranscriptResult, run_transcript

BARGE_IN_S = 1.0  # into an interruptible prompt: late enough that it is surely playing
AFTER_PROMPT_S = 0.4  # after the IVR starts waiting for a key
DTMF_KEY_S = 0.35  # SendDTMF: 250 ms between keys plus the tone itself
HANG_ON_S = 3.0  # the caller stays this long after the IVR should have finished


@dataclass
class TimedCaller(ScriptedCaller):
    durations_ms: dict[str, int] = field(default_factory=dict)  # "<lang>/<prompt id>"
    clock_s: float = 0.0
    presses: list[tuple[float, str]] = field(default_factory=list)  # (at second, keys)

    def hear_prompt(self, prompt_id: str, language: str) -> None:
        super().hear_prompt(prompt_id, language)
        self.clock_s += self.durations_ms.get(f"{language}/{prompt_id}", 0) / 1000

    def barge_in(self, prompt_id: str, language: str, escape_keys: str) -> str | None:
        if not escape_keys or not self._may_press_over(prompt_id):
            return None
        self._since_input.append(prompt_id)
        self.clock_s += BARGE_IN_S
        step = self._next_input()
        if step is None or step.press is None:
            return None
        self.presses.append((self.clock_s, step.press))
        self.clock_s += DTMF_KEY_S * len(step.press)
        self._keys = list(step.press[1:])
        return step.press[0]

    def _may_press_over(self, prompt_id: str) -> bool:
        """Press during this prompt only if the next input is a press and every prompt the
        transcript expects before it has been heard (this one included)."""
        heard = {*self._since_input, prompt_id}
        for step in self._steps:
            if step.expect_prompt is None:
                return step.press is not None
            if step.expect_prompt not in heard:
                return False
        return False

    def pressed(self, keys: str) -> None:
        self.clock_s += AFTER_PROMPT_S
        self.presses.append((self.clock_s, keys))
        self.clock_s += DTMF_KEY_S * len(keys)

    def stayed_silent(self, timeout_ms: int) -> None:
        self.clock_s += timeout_ms / 1000


@dataclass(frozen=True)
class PlannedCall:
    script: CallerScript
    expected: TranscriptResult  # what the interpreter alone says must happen
    duration_s: float


def plan_call(menus: MenuSet, transcript: Transcript, durations_ms: dict[str, int],
              variables: tuple[str, ...] = (), queue_allowance_s: float = 0.0) -> PlannedCall:
    """`queue_allowance_s`: stay longer when the call ends in a queue, for the live wait
    announcement (callers ahead, estimated wait) the menus alone cannot predict."""
    if not transcript.dtmf_only:
        raise ValueError(f"{transcript.name}: only keys-only transcripts can be dialled")
    caller = TimedCaller(transcript, durations_ms=durations_ms)
    expected = run_transcript(menus, transcript, caller)
    steps: list[tuple[float, str]] = []
    previous_end = 0.0
    for at_s, keys in caller.presses:
        steps.append((max(0.0, at_s - previous_end), keys))
        previous_end = at_s + DTMF_KEY_S * len(keys)
    stay_s = caller.clock_s - previous_end + HANG_ON_S
    if expected.outcome is not None and expected.outcome.kind.value == "queue":
        stay_s += queue_allowance_s
    script = CallerScript(steps=tuple(steps), stay_s=round(stay_s, 2),
                          caller_number=transcript.caller_number or "anonymous",
                          variables=variables)
    return PlannedCall(script, expected, caller.clock_s)
