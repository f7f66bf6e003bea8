"""`hotline prompts build`: render every catalog prompt an enabled language needs, convert it
to what Asterisk plays, and keep a manifest so only changed prompts are rendered again.

A prompt's fingerprint is its text, voice, rate, engine version and this pipeline's version
(or the recorded file's content when a human recording overrides TTS). Output lives in the
runtime folder: `<out>/<lang>/<id parts>.wav` (e.g. cmn/main/menu.wav), which the AGI side
plays by the same path.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.catalog import Catalog, Lexicon, prompt_sound
from speech.audio import TELEPHONY_RATE, AudioError, check_playable, convert, inspect
from speech.pronounce import spoken_text
from speech.tts import TtsJob, espeak_version, render

PIPELINE_VERSION = "2"  # bump when conversion changes so every prompt is rebuilt
EMPTY_LEXICON = Lexicon()
MANIFEST = "manifest.json"
# Asterisk's format_wav: `.wav` is 8 kHz, `.wav16` 16 kHz; it picks what suits the channel.
EXTENSIONS = {TELEPHONY_RATE: ".wav", 16000: ".wav16"}
FRAGMENT_PREFIX = "say."  # pieces of spoken figures: trimmed so they join without gaps


@dataclass(frozen=True)
class PromptAudio:
    prompt_id: str
    language: str

    @property
    def key(self) -> str:
        return f"{self.language}/{self.prompt_id}"

    def path(self, out_dir: Path, rate: int = TELEPHONY_RATE) -> Path:
        stem = prompt_sound(out_dir, self.prompt_id, self.language)
        return stem.with_name(stem.name + EXTENSIONS[rate])


@dataclass
class BuildReport:
    rendered: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def wanted_prompts(catalog: Catalog, languages: list[str]) -> list[PromptAudio]:
    """Every catalog prompt in every enabled language it has text for."""
    return [PromptAudio(prompt_id, language)
            for prompt_id, entry in sorted(catalog.prompts.items())
            for language in languages if language in entry.text]


def recorded_file(recorded_dir: Path, item: PromptAudio) -> Path:
    return item.path(recorded_dir)


def _fingerprint(catalog: Catalog, lexicon: Lexicon, item: PromptAudio, engine: str,
                 recorded: Path | None, rate: int) -> str:
    digest = hashlib.sha256()
    digest.update(f"{PIPELINE_VERSION}\0{rate}\0".encode())
    if recorded is not None:
        digest.update(b"recorded\0" + recorded.read_bytes())
    else:
        voice = catalog.voices[item.language]
        spoken = spoken_text(catalog, lexicon, item.prompt_id, item.language)
        digest.update("\0".join([spoken, voice.engine_voice, str(voice.rate),
                                 engine]).encode())
    return digest.hexdigest()


def manifest_file(out_dir: Path, rate: int = TELEPHONY_RATE) -> Path:
    return out_dir / (MANIFEST if rate == TELEPHONY_RATE else f"manifest-{rate}.json")


def load_manifest(out_dir: Path, rate: int = TELEPHONY_RATE) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(manifest_file(out_dir, rate).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build(catalog: Catalog, languages: list[str], out_dir: Path, recorded_dir: Path, *,
          lexicon: Lexicon = EMPTY_LEXICON, rate: int = TELEPHONY_RATE,
          progress: Callable[[str], None] | None = None) -> BuildReport:
    report = BuildReport()
    missing_voice = [lang for lang in languages if lang not in catalog.voices]
    if missing_voice:
        report.problems.append(f"no voice configured for {', '.join(missing_voice)} in the "
                               "catalog's `voices:`")
        return report
    engine = espeak_version()
    if rate not in EXTENSIONS:
        report.problems.append(f"rate {rate} Hz: use one of {sorted(EXTENSIONS)}")
        return report
    manifest = load_manifest(out_dir, rate)
    new_manifest: dict[str, dict[str, object]] = {}
    to_render: list[tuple[PromptAudio, str]] = []
    for item in wanted_prompts(catalog, languages):
        recorded = recorded_file(recorded_dir, item)
        source = recorded if recorded.is_file() else None
        fingerprint = _fingerprint(catalog, lexicon, item, engine, source, rate)
        previous = manifest.get(item.key, {})
        if previous.get("fingerprint") == fingerprint and item.path(out_dir, rate).is_file():
            new_manifest[item.key] = previous
            report.unchanged.append(item.key)
        elif source is not None:
            new_manifest[item.key] = _finish(item, source, out_dir, fingerprint, "recorded",
                                             rate, report)
            report.recorded.append(item.key)
        else:
            to_render.append((item, fingerprint))
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as scratch:
        jobs = []
        for index, (item, _) in enumerate(to_render):
            voice = catalog.voices[item.language]
            jobs.append(TtsJob(spoken_text(catalog, lexicon, item.prompt_id, item.language),
                               voice.engine_voice, voice.rate, Path(scratch) / f"{index}.wav"))
        render(jobs)
        for job, (item, fingerprint) in zip(jobs, to_render, strict=True):
            new_manifest[item.key] = _finish(item, job.path, out_dir, fingerprint, "tts", rate,
                                             report)
            report.rendered.append(item.key)
            if progress is not None:
                progress(item.key)
    report.removed = _remove_stale(out_dir, manifest, new_manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = manifest_file(out_dir, rate)
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(new_manifest, ensure_ascii=False, indent=1, sort_keys=True),
                       encoding="utf-8")
    partial.replace(target)
    return report


def _finish(item: PromptAudio, source: Path, out_dir: Path, fingerprint: str, origin: str,
            rate: int, report: BuildReport) -> dict[str, object]:
    target = item.path(out_dir, rate)
    try:
        facts = convert(source, target, rate, trim_silence=item.prompt_id.startswith(
            FRAGMENT_PREFIX))
    except AudioError as exc:
        report.problems.append(f"{item.key}: {exc}")
        return {}
    for problem in check_playable(facts, rate):
        report.problems.append(f"{item.key}: {problem}")
    return {"fingerprint": fingerprint, "source": origin, "duration_ms": facts.duration_ms,
            "file": str(target.relative_to(out_dir))}


def _remove_stale(out_dir: Path, old: dict[str, dict[str, object]],
                  new: dict[str, dict[str, object]]) -> list[str]:
    removed = []
    for key, entry in old.items():
        if key not in new and isinstance(entry.get("file"), str):
            (out_dir / str(entry["file"])).unlink(missing_ok=True)
            removed.append(key)
    return removed


@dataclass(frozen=True)
class CheckProblem:
    key: str
    problem: str


def check(catalog: Catalog, languages: list[str], used: set[str], out_dir: Path,
          recorded_dir: Path, rate: int = TELEPHONY_RATE,
          lexicon: Lexicon = EMPTY_LEXICON) -> list[CheckProblem]:
    """Missing, stale or unplayable audio for any prompt the menus use."""
    manifest = load_manifest(out_dir, rate)
    try:
        engine = espeak_version()
    except RuntimeError:
        engine = "missing"
    problems = []
    for item in wanted_prompts(catalog, languages):
        if item.prompt_id not in used:
            continue
        entry = manifest.get(item.key)
        target = item.path(out_dir, rate)
        if entry is None or not target.is_file():
            problems.append(CheckProblem(item.key, "no audio: run `hotline prompts build`"))
            continue
        recorded = recorded_file(recorded_dir, item)
        source = recorded if recorded.is_file() else None
        if entry.get("fingerprint") != _fingerprint(catalog, lexicon, item, engine, source,
                                                    rate):
            problems.append(CheckProblem(item.key, "stale: the text, voice or recording "
                                                   "changed; run `hotline prompts build`"))
            continue
        try:
            issues = check_playable(inspect(target), rate)
        except AudioError as exc:
            issues = [str(exc)]
        problems += [CheckProblem(item.key, issue) for issue in issues]
    return problems
