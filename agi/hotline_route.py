"""The `hotline` route: the caller's IVR session through the live menus, with the ports the
interpreter needs wired to Asterisk (prompts, message recording), the customer directory and
the event spool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from agi import variables
from agi.call_recording import MixMonitorRecording
from agi.channel import AgiChannel, recorded_file
from agi.menu_store import MenuStore
from agi.queue_info import AsteriskQueueInfo
from agi.speech_listener import AgiListener
from ivr.agents import Agent, SkillRouter
from ivr.call import Ports
from ivr.catalog import prompt_sound
from ivr.errors import CallerHungUp, ChannelError, HungUpAfterMessage
from ivr.interpreter import Waited, run_menus
from ivr.menu_schema import CallbackNode, MenuNode
from ivr.outcomes import CallSummary, Failure, HangUp, Outcome
from ivr.ports import (
    ALL_KEYS,
    AccountServices,
    CallRecording,
    Channel,
    Clock,
    DigitEntry,
    Directory,
    EventSink,
    QueueInfo,
    RecordedMessage,
    SystemClock,
    TicketIssuer,
    Verifier,
)
from speech.audio import WAV_HEADER_BYTES
from speech.client import SpeechClient

log = logging.getLogger(__name__)

BYTES_PER_MS = 16  # 8 kHz, 16-bit mono: what RECORD FILE writes for the wav format
MIN_MESSAGE_MS = 500  # shorter is a breath or the beep's echo, not a message


class PromptMissing(ChannelError):
    """A prompt has no rendered audio: the caller must reach a human, not hear silence."""


class AudioPrompter:
    """`ivr.ports.Prompter` playing pre-rendered audio through the channel."""

    def __init__(self, channel: Channel, prompts_dir: Path) -> None:
        self.channel = channel
        self.prompts_dir = prompts_dir

    def play(self, prompt_id: str, language: str, escape_keys: str = ALL_KEYS) -> str | None:
        return self.channel.play(self._sound(prompt_id, language), escape_keys)

    def read_digits(self, prompt_ids: Sequence[str], language: str,
                    entry: DigitEntry) -> str | None:
        sounds = [self._sound(prompt_id, language) for prompt_id in prompt_ids]
        return self.channel.read_digits(sounds, entry)

    def _sound(self, prompt_id: str, language: str) -> str:
        sound = prompt_sound(self.prompts_dir, prompt_id, language)
        if not sound.with_suffix(".wav").is_file():
            raise PromptMissing(f"no audio for prompt {prompt_id} ({language}); "
                                "run `hotline prompts build`")
        return str(sound)


class ChannelMessageRecorder:
    """`ivr.ports.MessageRecorder`: RECORD FILE into `<dir>/<date>/<call id>-<purpose>.wav`.
    A caller who hangs up to finish the message keeps it (HungUpAfterMessage)."""

    def __init__(self, channel: Channel, messages_dir: Path) -> None:
        self.channel = channel
        self.messages_dir = messages_dir

    def record_message(self, purpose: str, max_duration_s: int,
                       silence_s: int) -> RecordedMessage | None:
        folder = self.messages_dir / f"{datetime.now(UTC):%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"{self.channel.call_id}-{purpose}"
        try:
            self.channel.record(str(stem), max_duration_s * 1000, silence_s)
        except CallerHungUp as exc:
            message = _message(stem)
            if message is not None:
                raise HungUpAfterMessage(message.reference, message.duration_ms) from exc
            raise
        return _message(stem)


def _message(stem: Path) -> RecordedMessage | None:
    file = recorded_file(stem)
    try:
        size = file.stat().st_size
    except OSError:
        return None
    duration_ms = max(0, size - WAV_HEADER_BYTES) // BYTES_PER_MS
    if duration_ms < MIN_MESSAGE_MS:
        return None
    return RecordedMessage(reference=str(file), duration_ms=duration_ms)


def no_queue_state(channel: Channel) -> QueueInfo | None:
    """For a line that makes no wait announcements: the menus alone say what callers hear."""
    return None


@dataclass
class HotlineRoute:
    """Callable route: one call through the menus current at its start."""

    store: MenuStore
    prompts_dir: Path
    messages_dir: Path
    directory: Directory
    events: EventSink
    clock: Clock = field(default_factory=SystemClock)
    speech: SpeechClient | None = None  # None: keys only
    utterances_dir: Path | None = None
    agents: list[Agent] = field(default_factory=list)
    tickets: TicketIssuer | None = None  # None: complaints go to an agent
    verifier: Verifier | None = None  # None: nobody can be verified (an agent instead)
    accounts: AccountServices | None = None  # None: self-service actions go to an agent
    # Adapters made per call from its channel: the live queue (wait announcements and
    # callback offers) and the compliance recording.
    queue_state: Callable[[Channel], QueueInfo | None] = AsteriskQueueInfo
    recording: Callable[[AgiChannel], CallRecording | None] = MixMonitorRecording

    def __call__(self, channel: AgiChannel) -> Outcome:
        return self._serve(channel, "entry")

    def resume_from_queue(self, channel: AgiChannel) -> Outcome:
        """The `queue-exit` route: a caller who left a queue, to be called back or to go back
        to a menu, served from that node (IVR_START) in their language (IVR_LANGUAGE)."""
        return self._serve(channel, "queue-exit")

    def survey(self, channel: AgiChannel) -> Outcome:
        """The `survey` route: after the agent hung up, the line's satisfaction survey in the
        caller's language (IVR_LANGUAGE)."""
        return self._serve(channel, "survey")

    def _serve(self, channel: AgiChannel, begin: Literal["entry", "queue-exit", "survey"]
               ) -> Outcome:
        menus = self.store.current()
        if menus is None:
            return Failure.because("no-valid-menus")
        if begin == "survey" and menus.line.survey is None:
            return HangUp(summary=CallSummary(reason="no-survey"))
        channel.set_variable(variables.IVR_MENU_VERSION, menus.version)
        listener = None
        if self.speech is not None and self.utterances_dir is not None:
            listener = AgiListener(channel, self.speech, self.utterances_dir,
                                   menus.line.speech, self.prompts_dir)
        ports = Ports(channel=channel, prompter=AudioPrompter(channel, self.prompts_dir),
                      directory=self.directory,
                      recorder=ChannelMessageRecorder(channel, self.messages_dir),
                      events=self.events, clock=self.clock,
                      router=SkillRouter.for_menus(menus, self.agents), listener=listener,
                      queue_info=self.queue_state(channel), tickets=self.tickets,
                      recording=self.recording(channel), verifier=self.verifier,
                      accounts=self.accounts)
        # Only a resumed call reads IVR_START: one AGI round trip less on every new call.
        start = menus.line.survey if begin == "survey" else None
        if begin == "queue-exit":
            start = channel.get_variable(variables.IVR_START)
            if start is not None and not isinstance(menus.nodes.get(start),
                                                    (CallbackNode, MenuNode)):
                log.warning("call %s: IVR_START %r is not a callback or menu node; starting "
                            "at the entry", channel.call_id, start)
                start = None
        if start is None:
            return run_menus(menus, ports, start)
        language = channel.get_variable(variables.IVR_LANGUAGE)
        # Where the caller waited and why: a callback from the no-agent menu goes there.
        waited = Waited(queue=channel.get_variable(variables.IVR_SERVICE) or "",
                        intent=channel.get_variable(variables.IVR_INTENT) or "")
        return run_menus(menus, ports, start,
                         language if language in menus.line.call_languages else None, waited)
