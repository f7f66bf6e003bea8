"""`ivr.ports.Listener` over Asterisk. Two ways to hear an answer:

- record: RECORD FILE without a beep, every key live, ended by a pause; the speech service
  recognises the file.
- stream: the call's audio goes to the speech service through the AudioSocket application
  while the service itself plays the prompt; the caller can talk over it (barge-in), and the
  answer ends when the recogniser hears them stop — after `complete_pause_ms` once what they
  said is a whole phrase of the menu. Keys arrive on the same stream.

A caller who says nothing for the menu's timeout is "no input"; one who presses a key while
being recorded answers with that key at once. If the service is down, overloaded or has no
model for the caller's language, SpeechUnavailable is raised before the caller is asked to
speak, so the interpreter waits for keys instead. The short utterance files are deleted once
recognised (the compliance recording of the call keeps the audio); they are named by call id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from agi.channel import recorded_file
from ivr.catalog import prompt_sound
from ivr.errors import CallerHungUp, ChannelError
from ivr.menu_schema import SpeechSettings
from ivr.ports import ALL_KEYS, Channel, Heard, SpeechUnavailable
from speech.audio import WAV_HEADER_BYTES
from speech.client import SpeechClient
from speech.levels import has_voice

log = logging.getLogger(__name__)



@runtime_checkable
class StreamingChannel(Protocol):
    """A channel that can run dialplan applications (the AGI channel)."""

    def run_application(self, application: str, arguments: str) -> str: ...


class AgiListener:
    def __init__(self, channel: Channel, client: SpeechClient, utterances_dir: Path,
                 settings: SpeechSettings, prompts_dir: Path | None = None) -> None:
        self.channel = channel
        self.client = client
        self.utterances_dir = utterances_dir
        self.settings = settings
        self.prompts_dir = prompts_dir
        self._count = 0

    def listen(self, languages: list[str], phrases: list[str], timeout_ms: int, *,
               stream: bool = False,
               prompts: Sequence[tuple[str, str]] = ()) -> Heard | None:
        ready = self.client.ready_languages()
        usable = [language for language in languages if language in ready]
        if not usable:
            raise SpeechUnavailable(f"no speech model ready for {', '.join(languages)}")
        if stream:
            return self._stream(usable, phrases, timeout_ms, prompts)
        return self._record(usable, phrases, timeout_ms)

    def _stream(self, languages: list[str], phrases: list[str], timeout_ms: int,
                prompts: Sequence[tuple[str, str]]) -> Heard | None:
        if not isinstance(self.channel, StreamingChannel):
            raise SpeechUnavailable("this channel cannot stream audio")
        files = [self._prompt_file(prompt_id, language) for prompt_id, language in prompts]
        token, port = self.client.open_stream(languages, phrases, timeout_ms,
                                              self.settings.max_answer_s * 1000, files,
                                              self.settings.complete_pause_ms)
        try:
            self.channel.run_application("AudioSocket", f"{token},127.0.0.1:{port}")
        except CallerHungUp:
            raise
        except ChannelError as exc:
            raise SpeechUnavailable(f"AudioSocket failed: {exc}", heard_audio=True) from exc
        try:
            result = self.client.stream_result(token)
        except SpeechUnavailable as exc:
            raise SpeechUnavailable(str(exc), heard_audio=True) from exc
        ended = result.get("ended")
        if ended == "key":
            return Heard(key=str(result.get("key", ""))[:1] or None)
        if ended == "hangup":
            raise CallerHungUp("caller hung up while streaming")
        if ended in ("speech", "limit"):
            log.debug("call %s heard %r streaming (%s)", self.channel.call_id,
                      result.get("text"), result.get("language"))
            return Heard(text=str(result.get("text", "")),
                         confidence=float(result.get("confidence", 0.0)),
                         language=str(result.get("language", languages[0])),
                         interrupted=bool(result.get("barged_in")))
        if ended == "silence":
            return None
        raise SpeechUnavailable(f"stream ended: {ended}", heard_audio=True)

    def _prompt_file(self, prompt_id: str, language: str) -> Path:
        if self.prompts_dir is None:
            raise SpeechUnavailable("streaming needs the prompts folder")
        file = prompt_sound(self.prompts_dir, prompt_id, language).with_suffix(".wav")
        if not file.is_file():
            raise SpeechUnavailable(f"no audio for prompt {prompt_id} ({language})")
        return file

    def _record(self, usable: list[str], phrases: list[str], timeout_ms: int) -> Heard | None:
        stem = self._next_stem()
        wav = recorded_file(stem)
        started = time.monotonic()
        try:
            while True:
                key = self.channel.record(
                    str(stem), timeout_ms + self.settings.max_answer_s * 1000,
                    self.settings.end_silence_s, ALL_KEYS, beep=False)
                if key is not None:
                    return Heard(key=key)
                if has_speech(wav):
                    break
                if (time.monotonic() - started) * 1000 >= timeout_ms:
                    return None
            try:
                result = self.client.recognise(wav, usable, phrases)
            except SpeechUnavailable as exc:
                raise SpeechUnavailable(str(exc), heard_audio=True) from exc
        finally:
            wav.unlink(missing_ok=True)
        log.debug("call %s heard %r (%s, %.2f, %d ms)", self.channel.call_id, result.text,
                  result.language, result.confidence, result.decode_ms)
        return Heard(text=result.text, confidence=result.confidence, language=result.language)

    def transcribe(self, reference: str, language: str) -> str | None:
        if language not in self.client.ready_languages():
            raise SpeechUnavailable(f"no speech model ready for {language}")
        result = self.client.recognise(Path(reference), [language], [])
        return result.text or None

    def _next_stem(self) -> Path:
        self._count += 1
        folder = self.utterances_dir / f"{datetime.now(UTC):%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self.channel.call_id}-{self._count}"


def has_speech(wav: Path) -> bool:
    """A voice in the recording (RECORD FILE also ends on its time limit when the line is
    silent or carries no media)."""
    try:
        return has_voice(wav.read_bytes()[WAV_HEADER_BYTES:])
    except OSError:
        return False
