"""What each prompt's voice is given to say, and what the voice will really say.

espeak-ng's `sit/cmn` is "Mandarin, latin as English": it turns 您好 into `nin2 hao3` and
reads that by English rules. Mandarin prompts therefore go to the pinyin voice
(`sit/cmn-Latn-pinyin`, `reads: pinyin` in the catalog) as tone-numbered pinyin, made in
this order: the prompt's own `say` override; the reviewed lexicon (prompts/lexicon.yaml) for
the hotline's words, whose polyphones converters get wrong (还款 is huan2 kuan3, not hai2);
then pypinyin's phrase dictionary for the rest.

The gate (`pronounce`) asks the voice itself: `espeak-ng -q -x` prints the phonemes it will
say, and marks a switch to another language as `(en)`. A prompt fails when its voice
switches language, or when a lexicon word in its text is not among its phonemes as the
lexicon's reading voice says that reading.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from ivr.catalog import Catalog, Lexicon
from ivr.problems import Problem, Severity
from ivr.yamlsource import read_yaml

ESPEAK = "espeak-ng"
ESPEAK_TIMEOUT_S = 20.0
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Chinese punctuation as the pinyin voice understands it (pauses, sentence ends).
PUNCTUATION = str.maketrans({"，": ", ", "、": ", ", "；": "; ", "：": ": ", "。": ". ",
                             "！": "! ", "？": "? ", "（": " (", "）": ") ", "“": " ", "”": " "})
LANGUAGE_SWITCH = re.compile(r"\(([a-z]{2,3}(?:-[a-z0-9]+)*)\)")


class PronunciationError(RuntimeError):
    """The voice cannot be asked (espeak-ng missing or failing); the message says the fix."""


def spoken_text(catalog: Catalog, lexicon: Lexicon, prompt_id: str, language: str) -> str:
    """Exactly what the voice of `language` is given for the prompt."""
    entry = catalog.prompts[prompt_id]
    override = entry.say.get(language)
    if override is not None:
        return override
    text = entry.text[language]
    voice = catalog.voices.get(language)
    if voice is None or voice.reads == "text":
        return text
    return to_pinyin(text, lexicon.words.get(language, {}))


def to_pinyin(text: str, words: Mapping[str, str]) -> str:
    """Chinese text as tone-numbered pinyin (neutral tone 5); lexicon words first, longest
    first; digits, Latin letters and punctuation kept for the voice to read."""
    pieces: list[str] = []
    for chunk, is_han in _han_runs(text):
        if not is_han:
            pieces.append(chunk.translate(PUNCTUATION))
            continue
        for part, reading in _lexicon_split(chunk, words):
            pieces.append(f" {reading} " if reading else
                          " " + " ".join(lazy_pinyin(part, style=Style.TONE3,
                                                     neutral_tone_with_five=True)) + " ")
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def _han_runs(text: str) -> Iterable[tuple[str, bool]]:
    position = 0
    for match in HAN.finditer(text):
        if match.start() > position:
            yield text[position:match.start()], False
        yield match.group(0), True
        position = match.end()
    if position < len(text):
        yield text[position:], False


def _lexicon_split(run: str, words: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """The run cut at lexicon words (longest match first): (text, reading or None)."""
    longest = max((len(w) for w in words), default=0)
    out: list[tuple[str, str | None]] = []
    plain = ""
    index = 0
    while index < len(run):
        for size in range(min(longest, len(run) - index), 0, -1):
            word = run[index:index + size]
            if word in words:
                if plain:
                    out.append((plain, None))
                    plain = ""
                out.append((word, words[word]))
                index += size
                break
        else:
            plain += run[index]
            index += 1
    if plain:
        out.append((plain, None))
    return out


def phonemes(voice: str, text: str) -> str:
    """The phonemes `voice` will say for `text`, as espeak-ng prints them (`-q -x`)."""
    if shutil.which(ESPEAK) is None:
        raise PronunciationError("espeak-ng is not installed: `hotline prompts build` "
                                 "installs it (or `apt-get install espeak-ng`)")
    try:
        done = subprocess.run([ESPEAK, "-v", voice, "-q", "-x", text], capture_output=True,
                              text=True, timeout=ESPEAK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PronunciationError(f"espeak-ng did not answer for voice {voice}") from exc
    if done.returncode != 0 or "not found" in done.stderr.lower():
        raise PronunciationError(f"espeak-ng voice {voice!r}: {done.stderr.strip()}")
    return " ".join(done.stdout.split())


def _sounds(phoneme_text: str) -> tuple[str, str]:
    """(segments, tones) of espeak-ng phonemes, comparable across a language's voices: no
    stress marks or word breaks (a voice may join a word's syllables), one spelling of the
    velar nasal (the Cantonese voices write it `ng` and `N`), tone digits apart (voices put
    them before or after a final consonant)."""
    tokens = re.split(r"[\s_|]+", phoneme_text)
    text = "".join(re.sub(r"['_|,]", "", token).replace("ng", "N") for token in tokens)
    return re.sub(r"\d", "", text), re.sub(r"\D", "", text)


def _reads_as(said: str, expected: str, *, tones: bool) -> bool:
    said_segments, said_tones = _sounds(said)
    segments, expected_tones = _sounds(expected)
    # Mandarin tones change in context (third-tone sandhi): only the syllables must match.
    return segments in said_segments and (not tones or expected_tones in said_tones)


@dataclass
class Pronunciation:
    prompt_id: str
    language: str
    voice: str
    spoken: str  # exactly what the voice is given
    phonemes: str  # what the voice says
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def pronounce(catalog: Catalog, lexicon: Lexicon, *, prompt_ids: Iterable[str] | None = None,
              languages: Iterable[str] | None = None, workers: int = 4) -> list[Pronunciation]:
    """Every prompt (or those named) in every language with a voice (or those named)."""
    wanted_languages = set(languages) if languages is not None else set(catalog.voices)
    ids = list(prompt_ids) if prompt_ids is not None else sorted(catalog.prompts)
    jobs = [(prompt_id, language) for prompt_id in ids
            for language in sorted(catalog.prompts[prompt_id].text)
            if language in wanted_languages and language in catalog.voices]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda job: _pronounce_one(catalog, lexicon, *job), jobs))
        words = {id(r): _lexicon_words_in(catalog, lexicon, r.prompt_id, r.language)
                 for r in results}
        wanted = sorted({(r.language, w) for r in results for w in words[id(r)]})
        readings = dict(zip(wanted, pool.map(lambda lw: _reading_phonemes(lexicon, *lw),
                                             wanted), strict=True))
    for result in results:
        tones = catalog.voices[result.language].reads == "text"
        for word in words[id(result)]:
            listed = lexicon.words[result.language][word]
            expected = readings[(result.language, word)]
            if not _reads_as(result.phonemes, expected, tones=tones):
                result.problems.append(
                    f"{word} is not read as the lexicon lists it ({listed}: {expected})")
    return results


def _pronounce_one(catalog: Catalog, lexicon: Lexicon, prompt_id: str,
                   language: str) -> Pronunciation:
    voice = catalog.voices[language].engine_voice
    spoken = spoken_text(catalog, lexicon, prompt_id, language)
    said = phonemes(voice, spoken)
    result = Pronunciation(prompt_id, language, voice, spoken, said)
    # espeak marks a switch away, e.g. (en), and the switch back to its own language.
    switches = sorted(set(LANGUAGE_SWITCH.findall(said)) - {language})
    if switches:
        result.problems.append(f"the voice switches language ({', '.join(switches)}): "
                               "it cannot read this text in this language")
    return result


def _lexicon_words_in(catalog: Catalog, lexicon: Lexicon, prompt_id: str,
                      language: str) -> list[str]:
    text = catalog.prompts[prompt_id].text[language]
    return [word for word in lexicon.words.get(language, {}) if word in text]


def _reading_phonemes(lexicon: Lexicon, language: str, word: str) -> str:
    voice = lexicon.reading_voices.get(language)
    if voice is None:
        raise PronunciationError(f"prompts/lexicon.yaml lists {language} words but no "
                                 f"reading voice for {language} (reading_voices)")
    return phonemes(voice, lexicon.words[language][word])


def pronunciation_problems(catalog: Catalog, lexicon: Lexicon, catalog_file: Path,
                           languages: Iterable[str]) -> list[Problem]:
    """The gate as operator problems, each at its prompt's line in the catalog. Without
    espeak-ng the prompts cannot be asked: one warning says so and how to fix it."""
    try:
        results = pronounce(catalog, lexicon, languages=languages)
    except PronunciationError as exc:
        return [Problem(catalog_file, 1, f"pronunciation not checked: {exc}",
                        "run `hotline prompts build` (it installs espeak-ng), then "
                        "`hotline prompts pronounce`", severity=Severity.WARNING)]
    source = read_yaml(catalog_file)
    return [Problem(catalog_file, source.line_of(("prompts", r.prompt_id, "text", r.language)),
                    f"prompt {r.prompt_id} ({r.language}, voice {r.voice}): {problem}",
                    _fix(problem))
            for r in results for problem in r.problems]


def _fix(problem: str) -> str:
    if "switches language" in problem:
        return ("give the language a voice that reads it (Mandarin: sit/cmn-Latn-pinyin with "
                "`reads: pinyin`), or write the prompt in that language's script")
    return ("give the prompt a `say:` with the reading, or correct the lexicon; then "
            "`hotline prompts pronounce PROMPT_ID`")
