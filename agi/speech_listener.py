"""`ivr.ports.Listener` over Asterisk: record the caller's answer (RECORD FILE without a beep,
every key live, ended by a pause) and have the speech service recognise it.

A caller who says nothing for the menu's timeout is "no input"; one who presses a key while
being recorded answers with that key at once. If the service is down, overloaded or has no
model for the caller's language, SpeechUnavailable is raised before the caller is asked to
speak, so the interpreter waits for keys instead. The short utterance files are deleted once
recognised (the compliance recording of the call keeps the audio); they are named by call id.
"""

from __future__ import annotations

import logging
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path

from ivr.menu_schema import SpeechSettings
from ivr.ports import ALL_KEYS, Channel, Heard, SpeechUnavailable
from speech.client import SpeechClient

log = logging.getLogger(__name__)

WAV_HEADER_BYTES = 44
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
SPEECH_RMS = 400  # ~ -38 dBFS: louder than line noise, quieter than any voice
MIN_SPEECH_FRAMES = 8  # 160 ms of voice: a click or a breath is not an answer


class AgiListener:
    def __init__(self, channel: Channel, client: SpeechClient, utterances_dir: Path,
                 settings: SpeechSettings) -> None:
        self.channel = channel
        self.client = client
        self.utterances_dir = utterances_dir
        self.settings = settings
        self._count = 0

    def listen(self, languages: list[str], phrases: list[str], timeout_ms: int) -> Heard | None:
        ready = self.client.ready_languages()
        usable = [language for language in languages if language in ready]
        if not usable:
            raise SpeechUnavailable(f"no speech model ready for {', '.join(languages)}")
        stem = self._next_stem()
        wav = stem.with_suffix(".wav")
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
    """Enough loud 20 ms frames to be a voice (RECORD FILE also ends on its time limit when
    the line is silent or carries no media)."""
    try:
        data = wav.read_bytes()[WAV_HEADER_BYTES:]
    except OSError:
        return False
    samples = array("h")
    samples.frombytes(data[:len(data) - len(data) % 2])
    loud = 0
    threshold = SPEECH_RMS * SPEECH_RMS * FRAME_SAMPLES
    for start in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = samples[start:start + FRAME_SAMPLES]
        if sum(s * s for s in frame) >= threshold:
            loud += 1
            if loud >= MIN_SPEECH_FRAMES:
                return True
    return False
