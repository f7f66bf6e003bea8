"""The prompt catalog (`prompts/catalog.yaml`): prompt id -> text per language, and which
prompts are regulated (their wording needs review when it changes).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ivr.menu_schema import Language, PromptId

Regulation = Literal["recording-disclosure", "collections-disclosure", "privacy-notice"]


def prompt_sound(prompts_dir: Path, prompt_id: str, language: str) -> Path:
    """Where a rendered prompt lives, without extension: `<dir>/<lang>/main/menu`. The one
    rule shared by the renderer, the players and the generated Asterisk config."""
    return prompts_dir / language / Path(*prompt_id.split("."))


class PromptEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: dict[Language, Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    say: dict[Language, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict, description=(
            "What the voice is given instead of the text, per language, when neither the "
            "lexicon nor the converter reads it right: tone-numbered pinyin for a Mandarin "
            "pinyin voice (e.g. `chong2 ting1`), words for the others."))
    regulated: Regulation | None = Field(
        None, description="Regulated wording: changes need compliance review.")
    account: bool = Field(False, description=(
        "Tells the caller something about an account (its standing, arrears, what is due): "
        "only verified callers may hear it (`hotline validate` proves it). Collections "
        "disclosures are such prompts whether marked or not."))
    note: str = ""


# How a voice takes its text: as written, or as tone-numbered pinyin (espeak-ng's
# cmn-latn-pinyin reads pinyin exactly; its `sit/cmn` reads pinyin by English rules).
VoiceReading = Literal["text", "pinyin"]


class Voice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    engine_voice: str = Field(description="espeak-ng voice id, e.g. sit/cmn-Latn-pinyin (see "
                                          "`espeak-ng --voices`).")
    rate: int = Field(150, ge=60, le=400, description="Words per minute.")
    reads: VoiceReading = Field("text", description=(
        "`pinyin`: Chinese text is turned into tone-numbered pinyin (lexicon first, then a "
        "phrase-aware converter) before the voice reads it; `text`: as written."))


class Lexicon(BaseModel):
    """The hotline's own words and how each voice must read them (`prompts/lexicon.yaml`):
    tone-numbered pinyin for Mandarin, jyutping for Cantonese. It wins over the converter,
    and the pronunciation gate checks the voice really says them so."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    reading_voices: dict[Language, str] = Field(default_factory=dict, description=(
        "The espeak-ng voice that reads each language's listed readings exactly, e.g. "
        "sit/cmn-Latn-pinyin, sit/yue-Latn-jyutping."))
    words: dict[Language, dict[Annotated[str, Field(min_length=1)],
                               Annotated[str, Field(pattern=r"^[a-z]+[1-6]( [a-z]+[1-6])*$")]]
                ] = Field(default_factory=dict, description=(
                    "Language -> word -> reading, syllables with tone numbers, e.g. "
                    "还款: huan2 kuan3"))


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    languages: dict[Language, str] = Field(min_length=1,
                                           description="Tag -> name shown to operators.")
    voices: dict[Language, Voice] = Field(default_factory=dict,
                                          description="Text-to-speech voice per language.")
    prompts: dict[PromptId, PromptEntry] = Field(default_factory=dict)

    def tells_account(self, prompt_id: str) -> bool:
        entry = self.prompts.get(prompt_id)
        return entry is not None and (entry.account
                                      or entry.regulated == "collections-disclosure")

    def text(self, prompt_id: str, language: str) -> str:
        """The prompt's words; KeyError when the catalog lacks them (validation prevents it)."""
        return self.prompts[prompt_id].text[language]
