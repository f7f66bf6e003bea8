"""The pronunciation gate against the real espeak-ng: the shipped catalog reads as intended;
a Mandarin voice that reads pinyin by English rules, or a lexicon word read otherwise, fails
`hotline prompts pronounce`, `hotline prompts check` and `hotline validate`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from ivr.menu_loader import load_menus
from speech.pronounce import spoken_text
from speech.tts import TtsJob, render

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")


def hotline(catalog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_CATALOG_FILE": str(catalog), "COLUMNS": "200"}
    return subprocess.run([HOTLINE, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    """The shipped catalog and lexicon, to edit."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    for name in ("catalog.yaml", "lexicon.yaml"):
        shutil.copy(ROOT / "prompts" / name, folder / name)
    return folder / "catalog.yaml"


def test_the_shipped_catalog_reads_as_intended() -> None:
    done = hotline(ROOT / "prompts" / "catalog.yaml", "prompts", "pronounce")
    assert done.returncode == 0, done.stdout[-4000:]
    assert "(en)" not in done.stdout
    assert "says:     xin4 yong4 ka3 gua4 shi1" in done.stdout  # main.menu, as pinyin
    assert "huan2 kuan3" in done.stdout and "hai2 kuan3" not in done.stdout


def test_a_voice_reading_pinyin_by_english_rules_fails_the_gate(prompts_copy: Path) -> None:
    text = prompts_copy.read_text(encoding="utf-8")
    prompts_copy.write_text(text.replace(
        "cmn: {engine_voice: sit/cmn-Latn-pinyin, rate: 150, reads: pinyin}",
        "cmn: {engine_voice: sit/cmn, rate: 150}"), encoding="utf-8")
    done = hotline(prompts_copy, "prompts", "pronounce", "--lang", "cmn")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "switches language (en)" in done.stdout
    failed = re.search(r"(\d+) of (\d+) prompt readings as intended; (\d+) not", done.stdout)
    assert failed is not None and int(failed.group(3)) > 60, done.stdout[-500:]
    validated = hotline(prompts_copy, "validate")
    assert validated.returncode == 1 and "switches language" in validated.stdout


def test_a_lexicon_word_read_otherwise_fails_the_gate(prompts_copy: Path) -> None:
    text = prompts_copy.read_text(encoding="utf-8")
    marker = "  queue.ahead:\n    text:\n"
    assert marker in text
    # An override that says 还款 as the converters do: hai2 kuan3.
    prompts_copy.write_text(text.replace("  collections.repaid_thanks:\n",
                                         "  collections.repaid_thanks:\n"
                                         "    say: {cmn: gan3 xie4 nin2 de5 hai2 kuan3}\n"),
                            encoding="utf-8")
    done = hotline(prompts_copy, "prompts", "pronounce", "collections.repaid_thanks",
                   "--lang", "cmn")
    assert done.returncode == 1, done.stdout
    assert "还款 is not read as the lexicon lists it (huan2 kuan3" in done.stdout


def test_the_rendered_prompt_is_what_the_gate_asked_the_voice_about(tmp_path: Path) -> None:
    """The gate asks espeak-ng's command line; prompts are rendered through pyttsx3. Both
    must be the same voice saying the same text: the samples are identical."""
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    voice = menus.catalog.voices["cmn"]
    spoken = spoken_text(menus.catalog, menus.lexicon, "lang.choose_cmn", "cmn")
    job = TtsJob(spoken, voice.engine_voice, voice.rate, tmp_path / "pyttsx3.wav")
    render([job])
    direct = tmp_path / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", voice.engine_voice, "-s", str(voice.rate), "-w",
                    str(direct), spoken], check=True, timeout=60)
    def samples(path: Path) -> bytes:
        with wave.open(str(path), "rb") as audio:
            return audio.readframes(audio.getnframes())

    assert samples(job.path) == samples(direct) and len(samples(direct)) > 8000
