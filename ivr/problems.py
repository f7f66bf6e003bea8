"""A problem found in an operator's file, reported with where it is and how to fix it.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str
    fix: str
    node: str | None = None
    severity: Severity = Severity.ERROR

    def render(self, relative_to: Path | None = None) -> str:
        where = self.file
        if relative_to is not None and self.file.is_relative_to(relative_to):
            where = self.file.relative_to(relative_to)
        node = f" node '{self.node}':" if self.node else ""
        return f"{where}:{self.line}: {self.severity}:{node} {self.message}. Fix: {self.fix}"


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]
