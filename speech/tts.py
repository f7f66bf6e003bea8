"""Render text to speech at build time, never per call: pyttsx3 with espeak-ng voices in a
subprocess with a deadline (it writes to stdout and may hang)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from speech.audio import WAV_HEADER_BYTES

log = logging.getLogger(__name__)


class TtsError(RuntimeError):
    pass


@dataclass(frozen=True)
class TtsJob:
    text: str
    voice: str  # espeak-ng voice id, e.g. sit/cmn
    rate: int  # words per minute
    path: Path


def espeak_version() -> str:
    """Part of every prompt's fingerprint: a new engine re-renders everything."""
    try:
        done = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TtsError("espeak-ng is not installed (apt-get install espeak-ng)") from exc
    return done.stdout.strip().split(" Data at:")[0] or "unknown"


def render(jobs: list[TtsJob], timeout_s: float = 120.0, retries: int = 2) -> None:
    """Render all jobs in one worker, then retry whatever came out missing one job per
    worker: pyttsx3's espeak driver now and then drops a file, and a hang or crash must not
    cost the other prompts."""
    if not jobs:
        return
    try:
        _run_worker(jobs, timeout_s)
    except TtsError as exc:
        log.warning("batch render failed (%s); rendering one by one", exc)
    for _attempt in range(retries):
        missing = [job for job in jobs if not _produced(job)]
        if not missing:
            return
        log.info("re-rendering %d prompt(s) that came out missing", len(missing))
        for job in missing:
            try:
                _run_worker([job], 30.0)
            except TtsError as exc:
                log.warning("render failed: %s", exc)
    missing = [job for job in jobs if not _produced(job)]
    if missing:
        raise TtsError(f"no audio produced for {len(missing)} prompt(s), e.g. "
                       f"{missing[0].text[:20]!r} with voice {missing[0].voice}")


def _produced(job: TtsJob) -> bool:
    return job.path.is_file() and job.path.stat().st_size > WAV_HEADER_BYTES


def _run_worker(jobs: list[TtsJob], timeout_s: float) -> None:
    payload = "".join(json.dumps({"text": j.text, "voice": j.voice, "rate": j.rate,
                                  "path": str(j.path)}, ensure_ascii=False) + "\n"
                      for j in jobs)
    try:
        done = subprocess.run([sys.executable, "-m", "speech.tts_worker"], input=payload,
                              text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TtsError(f"text-to-speech did not finish within {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise TtsError(f"text-to-speech worker failed: {last}")
