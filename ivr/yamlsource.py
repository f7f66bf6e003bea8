"""Read operator-edited YAML keeping where every value came from, so each problem can be
reported as `file:line`.

PyYAML silently keeps the last of two equal keys in a mapping; operators mean something by
both, so duplicates are reported here instead of lost.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ivr.problems import Problem

M = TypeVar("M", bound=BaseModel)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceProblem:
    line: int
    message: str
    fix: str


@dataclass
class YamlSource:
    """A parsed YAML document with the line (1-based) of every mapping value and list item."""

    file: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[SourceProblem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """Line of the deepest known prefix of `path` (pydantic error locations go deeper than
        YAML nodes for missing fields)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def value_lines(self, prefix: Path_, value: object) -> list[int]:
        """Lines under `prefix` holding the scalar `value` (to point at the exact line of a
        dangling target or an unknown prompt), in file order."""
        found = []
        for path, line in self.lines.items():
            here = _at(self.data, path)
            # `key: 1` holds the int 1 where the schema (and the caller) sees the text "1".
            if path[:len(prefix)] == prefix and (
                    here == value or (isinstance(here, int) and str(here) == value)):
                found.append(line)
        return sorted(set(found))


def _at(data: Any, path: Path_) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def read_yaml(file: Path) -> YamlSource:
    text = file.read_text(encoding="utf-8")
    source = YamlSource(file, None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            source.data = {}
            return source
        source.data = _text_keys(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        source.problems.append(SourceProblem(
            line, f"YAML syntax: {exc.problem or exc}",
            "check indentation and quoting; keys like '*' and '#' must be quoted"))
        source.data = {}
        return source
    except yaml.YAMLError as exc:
        source.problems.append(SourceProblem(1, f"YAML: {exc}", "fix the YAML syntax"))
        source.data = {}
        return source
    finally:
        loader.dispose()
    for path, line in _walk(node, ()):
        source.lines.setdefault(path, line)
    source.problems.extend(_duplicate_keys(node))
    return source


def _text_keys(value: Any) -> Any:
    """Mapping keys as text, as they appear in the file (`1:` is the key '1', not the int)."""
    if isinstance(value, dict):
        return {str(key): _text_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_text_keys(item) for item in value]
    return value


def _scalar_key(node: yaml.Node) -> str | int:
    value = node.value if isinstance(node, yaml.ScalarNode) else str(node.start_mark)
    # YAML reads `1:` as an int key; the schema treats menu keys as text, so do the same here.
    return str(value)


def _walk(node: yaml.Node, path: Path_) -> Iterator[tuple[Path_, int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = _scalar_key(key_node)
            yield (*path, key), key_node.start_mark.line + 1
            yield from _walk(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index))


def _duplicate_keys(node: yaml.Node) -> Iterator[SourceProblem]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str | int, int] = {}
        for key_node, value_node in node.value:
            key = _scalar_key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                yield SourceProblem(line, f"key '{key}' appears twice (first at line "
                                    f"{seen[key]}); YAML would silently keep only the last",
                                    "remove or rename one of them")
            else:
                seen[key] = line
            yield from _duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def load_validated(file: Path, model: type[M], what: str, create_fix: str,
                   fix_for: Callable[[str], str]) -> tuple[M | None, list[Problem]]:
    """A whole operator-edited YAML file validated by one pydantic model: the model, or every
    problem at its line (`fix_for` turns a validation message into the fix to suggest)."""
    if not file.is_file():
        return None, [Problem(file, 1, f"{what} not found", create_fix)]
    source = read_yaml(file)
    problems = [Problem(file, p.line, p.message, p.fix) for p in source.problems]
    if problems:
        return None, problems
    try:
        return model.model_validate(source.data), []
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(Problem(file, source.line_of(loc),
                                    f"{'.'.join(str(x) for x in loc) or '(file)'}: "
                                    f"{error['msg']}", fix_for(str(error["msg"]))))
        return None, problems
