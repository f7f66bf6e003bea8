"""Text-to-speech worker, run as a subprocess by `speech.tts`: reads jobs (JSON lines on
stdin: text, voice, rate, path) and renders each with pyttsx3 (espeak-ng) to a WAV file.

pyttsx3 prints to stdout and can hang when one engine is reused; the parent gives this
process no AGI stream, discards its stdout and kills it at a deadline. Its espeak driver
also stops a saved file at the first sentence end, so each sentence is rendered alone and
the pieces are joined with a short pause.
"""

from __future__ import annotations

import json
import re
import sys
import time
import wave
from pathlib import Path

import pyttsx3
from pyttsx3.drivers import _espeak

from speech.audio import WAV_HEADER_BYTES

SENTENCE_END = re.compile(r"(?<=[。！？!?.；;])\s*")
PAUSE_S = 0.25


def sentences(text: str) -> list[str]:
    return [part for part in SENTENCE_END.split(text.strip()) if part.strip()]


def join_wavs(parts: list[Path], target: Path) -> None:
    with wave.open(str(parts[0]), "rb") as first:
        params = first.getparams()
    silence = b"\0" * int(params.framerate * PAUSE_S) * params.sampwidth * params.nchannels
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        for index, part in enumerate(parts):
            with wave.open(str(part), "rb") as piece:
                out.writeframes(piece.readframes(piece.getnframes()))
            if index < len(parts) - 1:
                out.writeframes(silence)


SENTENCE_ATTEMPTS = 3
FILE_WAIT_S = 5.0


def render_sentence(engine: pyttsx3.Engine, sentence: str, part: Path) -> bool:
    """One sentence to `part`; True when it holds audio. pyttsx3's espeak driver now and then
    returns from runAndWait while espeak's thread is still synthesising, or saves a file with
    no samples (its callback state races the next utterance): wait for espeak, then for the
    file, and say the sentence again when it came out empty."""
    for _attempt in range(SENTENCE_ATTEMPTS):
        part.unlink(missing_ok=True)
        engine.save_to_file(sentence, str(part))
        # One file per run: queued save_to_file calls overwrite each other.
        engine.runAndWait()
        _espeak.Synchronize()
        deadline = time.monotonic() + FILE_WAIT_S
        frames = _frames_written(part)
        while frames is None and time.monotonic() < deadline:
            time.sleep(0.02)
            frames = _frames_written(part)
        if frames:
            return True
    return False


def _frames_written(path: Path) -> int | None:
    """Frames in a completely written WAV file; None while it is missing or being written
    (the wave module writes the header with the final length before the samples)."""
    try:
        with wave.open(str(path), "rb") as audio:
            frames = audio.getnframes()
            expected = frames * audio.getsampwidth() * audio.getnchannels()
        return frames if path.stat().st_size >= WAV_HEADER_BYTES + expected else None
    except (OSError, EOFError, wave.Error):
        return None


def main() -> int:
    jobs = [json.loads(line) for line in sys.stdin if line.strip()]
    engine = pyttsx3.init("espeak")
    for job in jobs:
        engine.setProperty("voice", job["voice"])
        engine.setProperty("rate", int(job["rate"]))
        target = Path(job["path"])
        parts = []
        complete = True
        for index, sentence in enumerate(sentences(job["text"])):
            part = target.with_name(f"{target.stem}.{index}.wav")
            parts.append(part)
            if not render_sentence(engine, sentence, part):
                complete = False  # no target: the parent renders the job again on its own
                break
        if parts and complete:
            join_wavs(parts, target)
        for part in parts:
            part.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
