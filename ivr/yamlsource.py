"""Read operator-edited YAML keeping where every value came from, so each problem can be
reported as `file:line`.

PyYAML silently keeps the last of two equal keys in a mapping; operators mean something by
both, so duplicates are reported here instead of lost.

Every operator file is bounded before it is built: its size, its text (UTF-8, no control
characters) and how far its aliases expand. A 480-byte "billion laughs" file of nested
aliases once took 1.4 GB to build; it is now refused, with its line, in microseconds.

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


MAX_YAML_BYTES = 1 << 20  # the shipped menus are a few kB each
MAX_YAML_VALUES = 100_000  # values once every alias is expanded (the menus: a few thousand)


class YamlRefused(ValueError):
    """An operator file too large, not text, or whose aliases expand too far."""

    def __init__(self, line: int, message: str, fix: str) -> None:
        super().__init__(message)
        self.line, self.fix = line, fix


def safe_load(file: Path) -> Any:
    """The data of a bounded YAML file (for files that need no line numbers). Raises
    YamlRefused or yaml.YAMLError."""
    source = read_yaml(file)
    if source.problems:
        first = source.problems[0]
        raise YamlRefused(first.line, f"{file}:{first.line}: {first.message}", first.fix)
    return source.data


def read_yaml(file: Path) -> YamlSource:
    source = YamlSource(file, None)
    try:
        text = _bounded_text(file)
    except YamlRefused as exc:
        source.problems.append(SourceProblem(exc.line, str(exc), exc.fix))
        source.data = {}
        return source
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses some characters at once
        source.problems.append(SourceProblem(1, f"YAML: {exc}", "remove the character: "
                                             "operator files are plain text"))
        source.data = {}
        return source
    try:
        node = loader.get_single_node()
        if node is None:
            source.data = {}
            return source
        _check_expansion(node)
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
    except YamlRefused as exc:
        source.problems.append(SourceProblem(exc.line, str(exc), exc.fix))
        source.data = {}
        return source
    except RecursionError:
        source.problems.append(SourceProblem(1, "YAML nested too deeply to read",
                                             "flatten the file: no real menu nests so deep"))
        source.data = {}
        return source
    finally:
        loader.dispose()
    for path, line in _walk(node, ()):
        source.lines.setdefault(path, line)
    source.problems.extend(_duplicate_keys(node))
    return source


def _bounded_text(file: Path) -> str:
    try:
        size = file.stat().st_size
        if size > MAX_YAML_BYTES:
            raise YamlRefused(1, f"the file is {size} bytes; operator files are limited to "
                              f"{MAX_YAML_BYTES} bytes", "split it into several files, or "
                              "check it is the file you meant")
        data = file.read_bytes()
    except OSError as exc:
        raise YamlRefused(1, f"cannot read the file: {exc.strerror or exc}",
                          "check it exists and is readable") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise YamlRefused(line, "not UTF-8 text (is it a binary file?)",
                          "save it as UTF-8 text") from exc
    for index, char in enumerate(text):
        if (char < " " and char not in "\t\n\r") or char == "\x7f":
            raise YamlRefused(text.count("\n", 0, index) + 1,
                              f"a control character (U+{ord(char):04X}) in the text",
                              "remove it: operator files are plain text")
    return text


def _check_expansion(root: yaml.Node) -> None:
    """Refuse aliases that would expand past MAX_YAML_VALUES values, or into themselves,
    before anything is built (a shared node counts once per place it is used)."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise YamlRefused(node.start_mark.line + 1, "an alias refers to itself",
                              "remove the recursive alias")
        visiting.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_YAML_VALUES:
                raise YamlRefused(node.start_mark.line + 1, "its aliases expand to more than "
                                  f"{MAX_YAML_VALUES} values", "write the values out, or "
                                  "use fewer nested aliases")
        visiting.discard(key)
        sizes[key] = total
        return total

    size(root)


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
