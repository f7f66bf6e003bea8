"""The Vosk adapter: one loaded model and recognition of one utterance, restricted to a
phrase list (grammar) or free. The only module importing vosk; its errors become ModelError.

Telephone audio is 8 kHz; models are trained at 16 kHz. The recogniser is told the audio's
real rate and Kaldi's feature pipeline resamples (the models' mfcc.conf allows it), which
measured as accurate as resampling beforehand.

Must not import pyst2 or Asterisk.
"""

from __future__ import annotations

import json
import logging
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ivr.vocabulary import UNKNOWN_WORD, Vocabulary, grammar
from speech.models import ModelEntry, ModelError, read_vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recognition:
    text: str  # words the model heard, space-separated as Vosk gives them; no [unk]
    confidence: float  # mean word confidence; 0.0 when nothing was understood
    words: tuple[str, ...]
    decode_ms: int


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # signed 16-bit little-endian mono
    rate_hz: int

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) * 1000 // (2 * self.rate_hz) if self.rate_hz else 0


def read_wav(file: Path) -> Audio:
    try:
        with wave.open(str(file), "rb") as reader:
            if reader.getsampwidth() != 2 or reader.getnchannels() != 1:
                raise ModelError(f"{file.name}: need 16-bit mono audio")
            return Audio(reader.readframes(reader.getnframes()), reader.getframerate())
    except (OSError, EOFError, wave.Error) as exc:
        raise ModelError(f"{file.name}: unreadable audio ({exc})") from exc


class Decoding(Protocol):
    """An answer being decoded as it streams in (`Utterance`, or a test's fake)."""

    def accept(self, pcm: bytes) -> bool: ...

    def so_far(self) -> str: ...

    def finish(self, started: float | None = None) -> Recognition: ...


class Utterance:
    """One caller's answer, fed in pieces. Vosk's endpointer (the model's trailing-silence
    rules) says when the caller has finished, well before a fixed pause would."""

    def __init__(self, recogniser: Any) -> None:
        self._recogniser = recogniser
        self._segments: list[dict[str, Any]] = []

    def accept(self, pcm: bytes) -> bool:
        """Feed audio; True when an endpoint was reached (the segment so far is kept)."""
        if self._recogniser.AcceptWaveform(pcm):
            self._segments.append(json.loads(self._recogniser.Result()))
            return True
        return False

    def so_far(self) -> str:
        """The words heard up to now (the decoder's partial hypothesis included)."""
        texts = [segment.get("text", "") for segment in self._segments]
        texts.append(json.loads(self._recogniser.PartialResult()).get("partial", ""))
        return " ".join(word for text in texts for word in str(text).split()
                        if word != UNKNOWN_WORD)

    def finish(self, started: float | None = None) -> Recognition:
        self._segments.append(json.loads(self._recogniser.FinalResult()))
        items = [item for segment in self._segments for item in segment.get("result", [])
                 if item.get("word") and item.get("word") != UNKNOWN_WORD]
        words = tuple(str(item["word"]) for item in items)
        confidence = (sum(float(item.get("conf", 0.0)) for item in items) / len(items)
                      if items else 0.0)
        elapsed_ms = int((time.monotonic() - started) * 1000) if started is not None else 0
        return Recognition(" ".join(words), confidence, words, elapsed_ms)


class LoadedModel:
    """A Vosk model loaded once and shared by every call (recognisers are per utterance)."""

    def __init__(self, name: str, path: Path, entry: ModelEntry) -> None:
        import vosk  # heavy native library: only where models are really loaded

        vosk.SetLogLevel(-1)
        self.name = name
        self.entry = entry
        started = time.monotonic()
        try:
            self._model = vosk.Model(str(path))
        except Exception as exc:  # vosk raises bare Exception("Failed to create a model")
            raise ModelError(f"{name}: Vosk cannot load {path}: {exc}") from exc
        self.load_s = time.monotonic() - started
        self.vocabulary: Vocabulary = read_vocabulary(path, name)
        self._vosk = vosk

    def recognise(self, audio: Audio, phrases: list[str]) -> Recognition:
        """`phrases` restrict what is listened for when the model takes grammars ([]: free)."""
        started = time.monotonic()
        utterance = self.start(audio.rate_hz, phrases)
        if utterance is None:
            return Recognition("", 0.0, (), 0)
        utterance.accept(audio.pcm)
        return utterance.finish(started)

    def start(self, rate_hz: int, phrases: list[str]) -> Utterance | None:
        """An utterance fed as it arrives (streaming); None when no phrase can be heard."""
        recogniser = self._recogniser(rate_hz, phrases)
        if recogniser is None:
            return None
        recogniser.SetWords(True)
        return Utterance(recogniser)

    def _recogniser(self, rate_hz: int, phrases: list[str]) -> Any:
        if phrases and self.entry.grammar:
            entries = grammar(phrases, self.vocabulary)
            if not [e for e in entries if e != UNKNOWN_WORD]:
                log.warning("%s: none of the %d phrases is in the model's vocabulary",
                            self.name, len(phrases))
                return None
            # ensure_ascii=False: Vosk compares the grammar's bytes with its vocabulary, and an
            # escaped \\uXXXX word is "missing in vocabulary" and silently dropped.
            return self._vosk.KaldiRecognizer(self._model, rate_hz,
                                              json.dumps(entries, ensure_ascii=False))
        return self._vosk.KaldiRecognizer(self._model, rate_hz)
