"""Compliance recordings through real Asterisk: the call is recorded after the disclosure,
caller and hotline on separate stereo channels, named by call id in a dated folder, and the
key tones of a sensitive entry (a loan account number) never reach the file."""

from __future__ import annotations

import shutil
import wave
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from agi.hotline_route import no_queue_state
from agi.menu_store import MenuStore
from bench.sip_plans import ACT_SEPARATOR, plan_transcript
from db.audio_store import store_raw
from ivr.menu_loader import MenuSet
from ivr.transcripts import load_transcript
from pbx.ami import Ami
from pbx.process import AsteriskInstance
from tests.integration.conftest import ServerFactory
from tests.integration.dialling import dial, transcript_route

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "6200000000001"
DTMF = {"1": (697, 1209), "2": (697, 1336), "6": (770, 1477), "0": (941, 1336)}
RATE = 8000
TONE_S, GAP_S = 0.12, 0.08


def write_key_tones(path: Path, keys: str) -> None:
    """In-band key tones, as an analogue phone sends them: what must not be recorded."""
    t = np.arange(int(TONE_S * RATE)) / RATE
    gap = np.zeros(int(GAP_S * RATE))
    parts = []
    for key in keys:
        low, high = DTMF[key]
        parts += [0.35 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)), gap]
    samples = (np.concatenate(parts) * 32767 * 0.9).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def keys_heard(samples: np.ndarray) -> str:
    """Key tones found in one channel, as a receiver finds them: in 20 ms blocks, each of
    the pair's two tones strong on its own and together most of the block's energy, held
    for at least two blocks (40 ms; speech formants can line up for one block, a key press
    lasts far longer). Repeats of one tone count once."""
    block = 160
    freqs = np.fft.rfftfreq(block, 1 / RATE)
    found: list[str] = []
    previous, held = None, 0
    for start in range(0, len(samples) - block, block):
        chunk = samples[start:start + block].astype(float)
        spectrum = np.abs(np.fft.rfft(chunk * np.hanning(block))) ** 2
        total = spectrum.sum()
        key = None
        if total > 1e6:
            for name, (low, high) in DTMF.items():
                parts = [spectrum[np.abs(freqs - f) <= 50].sum() / total for f in (low, high)]
                if sum(parts) > 0.6 and min(parts) > 0.2:
                    key = name
        held = held + 1 if key is not None and key == previous else 1
        if key is not None and held == 2:
            found.append(key)
        previous = key
    return "".join(found)


def test_recording_starts_after_the_disclosure_and_leaves_out_sensitive_digits(
        asterisk: AsteriskInstance, ami: Ami, start_fastagi: ServerFactory, menus: MenuSet,
        durations: dict[str, int], tmp_path: Path) -> None:
    settings = asterisk.settings
    transcript = load_transcript(ROOT / "menus" / "transcripts" / "loan-account-entry.yaml")
    store = MenuStore(settings.menus, settings.catalog_file)
    assert store.reload().applied

    start_fastagi({"hotline": transcript_route(settings, store, transcript,
                                               queue_state=no_queue_state)})
    sounds = settings.runtime_dir / "caller-sounds"
    sounds.mkdir(exist_ok=True)
    write_key_tones(sounds / "key-1.wav", "1")
    write_key_tones(sounds / "account.wav", ACCOUNT)
    plan = plan_transcript(menus, "loan-account-entry", transcript, barging=True)
    turns = list(plan.turns)
    # The caller's phone sends its keys in-band too: the language key is not sensitive (it
    # must be in the recording); the account number is (it must not).
    language, account = turns.index("1"), turns.index(ACCOUNT + "#")
    turns[language] = f"play=key-1{ACT_SEPARATOR}1"
    turns[account] = f"play=account{ACT_SEPARATOR}{ACCOUNT}#"
    day = datetime.now(UTC)
    trace = dial(asterisk, ami, menus, "loan-account-entry", transcript, stay_s=10,
                 plan=replace(plan, turns=tuple(turns)), sounds_dir=sounds)

    assert trace.ended.get("Outcome") == "hangup", trace.ended
    raw = Path(trace.ended.get("Recording", ""))
    # Named by the call id only, in a dated folder.
    assert raw == settings.recordings_dir / f"{day:%Y/%m/%d}" / f"{trace.hotline_id}.raw"
    gosubs = [data for _ctx, app, data in trace.steps if app == "MixMonitor"]
    # Started after the disclosure; resumed after the account number and after the PIN.
    assert len(gosubs) == 3, trace.steps
    # Stored outside the shared recordings folder: no other test's database names it.
    moved = Path(shutil.move(raw, tmp_path / raw.name))
    stored = store_raw(moved)
    assert not moved.exists() and stored.path.suffix == ".wav"
    with wave.open(str(stored.path), "rb") as audio:
        assert (audio.getnchannels(), audio.getframerate()) == (2, RATE)
        frames = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    caller, hotline = frames[0::2], frames[1::2]
    assert stored.duration_ms > 5000
    assert np.abs(hotline).max() > 1000, "the IVR's prompts are on the hotline channel"
    heard = keys_heard(caller)
    assert "1" in heard, f"the caller's own channel must hold the language key: {heard!r}"
    assert not set(heard) & {"0", "2", "6"}, f"account digits reached the recording: {heard!r}"
    assert not set(keys_heard(hotline)) & {"0", "2", "6"}
