"""The QA checklist (console/qa.yaml) and scoring against it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from console.i18n import DEFAULT, LANGUAGES
from ivr.yamlsource import safe_load

CHECKLIST_FILE = Path(__file__).with_name("qa.yaml")


class QaItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    text: dict[str, str]  # language code (console/i18n.LANGUAGES) -> the item's words
    weight: int = Field(1, ge=1, le=10)
    regulated: bool = False

    @model_validator(mode="after")
    def _in_every_language(self) -> QaItem:
        missing = set(LANGUAGES) - set(self.text)
        if missing:
            raise ValueError(f"item {self.id} has no text in {', '.join(sorted(missing))}")
        return self

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text[DEFAULT]


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    items: list[QaItem] = Field(min_length=1)

    def score(self, met: set[str]) -> int:
        """Percent of the checklist's weight met."""
        total = sum(item.weight for item in self.items)
        return round(100 * sum(i.weight for i in self.items if i.id in met) / total)


def load_checklist(path: Path = CHECKLIST_FILE) -> Checklist:
    return Checklist.model_validate(safe_load(path))
