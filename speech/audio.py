"""Audio conversion and sanity checks with pydub: what Asterisk plays natively is 8 kHz mono
16-bit signed linear (WAV); other rates (16 kHz for wideband) on request."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

# pydub looks for ffmpeg at import; WAV in and out needs none.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
from pydub import AudioSegment  # noqa: E402
from pydub.silence import detect_leading_silence  # noqa: E402

TELEPHONY_RATE = 8000
SAMPLE_WIDTH_BYTES = 2
# A canonical PCM WAV header (RIFF, fmt, data), as Asterisk's RECORD FILE and espeak-ng
# write it: what lies before the first sample.
WAV_HEADER_BYTES = 44
SILENT_BELOW_DBFS = -50.0  # quieter than this overall is a broken render, not speech


class AudioError(RuntimeError):
    pass


@dataclass(frozen=True)
class AudioFacts:
    duration_ms: int
    rate: int
    channels: int
    sample_width: int
    dbfs: float


def convert(source: Path, target: Path, rate: int = TELEPHONY_RATE,
            trim_silence: bool = False) -> AudioFacts:
    """Any WAV -> mono 16-bit WAV at `rate`, written atomically. `trim_silence` cuts the
    engine's silence at both ends (fragments joined into numbers must not stutter)."""
    try:
        sound = AudioSegment.from_wav(str(source))
    except (OSError, ValueError, EOFError) as exc:
        raise AudioError(f"cannot read {source.name}: {exc}") from exc
    sound = sound.set_channels(1).set_sample_width(SAMPLE_WIDTH_BYTES).set_frame_rate(rate)
    if trim_silence:
        sound = _trimmed(sound)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    sound.export(str(partial), format="wav")
    partial.replace(target)
    return inspect(target)


TRIM_THRESHOLD_DBFS = -40.0
TRIM_KEEP_MS = 30  # a little air so consonants are not clipped


def _trimmed(sound: AudioSegment) -> AudioSegment:
    start = detect_leading_silence(sound, silence_threshold=TRIM_THRESHOLD_DBFS)
    end = detect_leading_silence(sound.reverse(), silence_threshold=TRIM_THRESHOLD_DBFS)
    if start + end >= len(sound):
        return sound  # all "silence": leave it for check_playable to report
    return sound[max(0, start - TRIM_KEEP_MS):len(sound) - max(0, end - TRIM_KEEP_MS)]


def inspect(file: Path) -> AudioFacts:
    try:
        sound = AudioSegment.from_wav(str(file))
    except (OSError, ValueError, EOFError) as exc:
        raise AudioError(f"cannot read {file.name}: {exc}") from exc
    dbfs = sound.dBFS if sound.rms > 0 else -math.inf
    return AudioFacts(len(sound), sound.frame_rate, sound.channels, sound.sample_width, dbfs)


def check_playable(facts: AudioFacts, rate: int = TELEPHONY_RATE) -> list[str]:
    """What is wrong with a rendered prompt (empty list: nothing)."""
    problems = []
    if facts.duration_ms <= 0:
        problems.append("empty")
    if facts.rate != rate or facts.channels != 1 or facts.sample_width != SAMPLE_WIDTH_BYTES:
        problems.append(f"format {facts.rate} Hz/{facts.channels} ch/"
                        f"{facts.sample_width * 8} bit, expected {rate} Hz mono 16 bit")
    if facts.dbfs < SILENT_BELOW_DBFS:
        problems.append(f"silent ({facts.dbfs:.0f} dBFS)")
    return problems
