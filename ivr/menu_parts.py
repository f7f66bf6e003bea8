"""What the menu loader parsed, handed to the cross-checks: kept apart from both so that the
loader calls the checks and the checks read the parts, with no import cycle.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr import menu_schema as schema
from ivr.yamlsource import YamlSource


@dataclass(frozen=True)
class Origin:
    file: Path
    line: int


@dataclass
class ParsedMenus:
    """What parsed, plus what exists at all (ids of nodes that failed the schema still count
    as defined so their referrers do not get a second, misleading error)."""

    line: schema.LineSettings | None = None
    line_origin: Origin | None = None
    queues: dict[str, schema.QueueDef] = field(default_factory=dict)
    queue_origins: dict[str, Origin] = field(default_factory=dict)
    nodes: dict[str, schema.Node] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    broken_nodes: set[str] = field(default_factory=set)
    # Files whose YAML did not parse: their nodes are unknown, so "does not exist" and
    # "unreachable" would be noise until the syntax is fixed.
    unparsed_files: set[Path] = field(default_factory=set)
    sources: dict[Path, YamlSource] = field(default_factory=dict)
