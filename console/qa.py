"""The QA checklist (console/qa.yaml) and scoring against it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ivr.yamlsource import safe_load

CHECKLIST_FILE = Path(__file__).with_name("qa.yaml")


class QaItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    text: str
    weight: int = Field(1, ge=1, le=10)
    regulated: bool = False


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    items: list[QaItem] = Field(min_length=1)

    def score(self, met: set[str]) -> int:
        """Percent of the checklist's weight met."""
        total = sum(item.weight for item in self.items)
        return round(100 * sum(i.weight for i in self.items if i.id in met) / total)


def load_checklist(path: Path = CHECKLIST_FILE) -> Checklist:
    return Checklist.model_validate(safe_load(path))
