"""Is there a voice in this audio? Frame energy of 8 kHz signed 16-bit PCM, used to tell an
answer from silence, line noise or a click (and, when streaming, to stop a prompt the caller
talks over).

Must not import pyst2, Asterisk or vosk.
"""

from __future__ import annotations

from array import array

FRAME_BYTES = 320  # 20 ms at 8 kHz, 16-bit mono (one AudioSocket frame)
VOICE_RMS = 400  # ~ -38 dBFS: louder than line noise, quieter than any voice
MIN_VOICE_FRAMES = 8  # 160 ms of voice: a click or a breath is not an answer
_THRESHOLD = VOICE_RMS * VOICE_RMS * (FRAME_BYTES // 2)


def is_loud(frame: bytes) -> bool:
    samples = array("h")
    samples.frombytes(frame[:len(frame) - len(frame) % 2])
    return sum(s * s for s in samples) >= _THRESHOLD * len(samples) / (FRAME_BYTES // 2)


def has_voice(pcm: bytes) -> bool:
    """At least MIN_VOICE_FRAMES loud 20 ms frames."""
    loud = 0
    for start in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
        if is_loud(pcm[start:start + FRAME_BYTES]):
            loud += 1
            if loud >= MIN_VOICE_FRAMES:
                return True
    return False
