"""Music on hold for the queues: the Debian Asterisk root ships none, and a queue without it
leaves callers in silence (they hang up thinking the line is dead). A calm, royalty-free
arpeggio is synthesised here with pydub: no download, no licence question.

Must not import pyst2 or Asterisk.
"""

from __future__ import annotations

from pathlib import Path

from speech.audio import TELEPHONY_RATE  # first: it silences pydub's ffmpeg warning

# A slow C-major / A-minor / F / G progression, one note per 600 ms, soft and without clicks.
_NOTES_HZ = [261.63, 329.63, 392.00, 329.63, 220.00, 261.63, 329.63, 261.63,
             174.61, 220.00, 261.63, 220.00, 196.00, 246.94, 293.66, 246.94]
_NOTE_MS = 600
_VOLUME_DB = -22.0


def write_hold_music(folder: Path) -> Path:
    """`<folder>/hold.wav` (8 kHz mono 16-bit), written once."""
    target = folder / "hold.wav"
    if target.is_file():
        return target
    from pydub import AudioSegment  # after speech.audio, which silences pydub's warning
    from pydub.generators import Sine

    folder.mkdir(parents=True, exist_ok=True)
    music = AudioSegment.silent(duration=0, frame_rate=TELEPHONY_RATE)
    for _round in range(3):
        for frequency in _NOTES_HZ:
            note = Sine(frequency, sample_rate=TELEPHONY_RATE).to_audio_segment(
                duration=_NOTE_MS, volume=_VOLUME_DB).fade_in(60).fade_out(200)
            music += note
    music = music.set_channels(1).set_sample_width(2).set_frame_rate(TELEPHONY_RATE)
    partial = target.with_suffix(".partial")
    music.export(partial, format="wav")
    partial.rename(target)
    return target
