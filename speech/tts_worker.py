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
import wave
from pathlib import Path

import pyttsx3

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


def main() -> int:
    jobs = [json.loads(line) for line in sys.stdin if line.strip()]
    engine = pyttsx3.init("espeak")
    for job in jobs:
        engine.setProperty("voice", job["voice"])
        engine.setProperty("rate", int(job["rate"]))
        target = Path(job["path"])
        parts = []
        for index, sentence in enumerate(sentences(job["text"])):
            part = target.with_name(f"{target.stem}.{index}.wav")
            engine.save_to_file(sentence, str(part))
            # One file per run: queued save_to_file calls overwrite each other.
            engine.runAndWait()
            parts.append(part)
        if parts and all(p.is_file() for p in parts):
            join_wavs(parts, target)
        for part in parts:
            part.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
