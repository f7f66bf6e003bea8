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
    regulated: Regulation | None = Field(
        None, description="Regulated wording: changes need compliance review.")
    note: str = ""


class Voice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    engine_voice: str = Field(description="espeak-ng voice id, e.g. sit/cmn (see "
                                          "`espeak-ng --voices`).")
    rate: int = Field(150, ge=60, le=400, description="Words per minute.")


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    languages: dict[Language, str] = Field(min_length=1,
                                           description="Tag -> name shown to operators.")
    voices: dict[Language, Voice] = Field(default_factory=dict,
                                          description="Text-to-speech voice per language.")
    prompts: dict[PromptId, PromptEntry] = Field(default_factory=dict)

    def text(self, prompt_id: str, language: str) -> str:
        """The prompt's words; KeyError when the catalog lacks them (validation prevents it)."""
        return self.prompts[prompt_id].text[language]
