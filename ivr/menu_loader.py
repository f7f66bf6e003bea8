"""Load the menu files and the prompt catalog into one checked, immutable `MenuSet`.

Loading never stops at the first problem: each node is validated on its own so one typo does
not hide the others, then the cross-checks (ivr.menu_checks) run on everything that parsed.
A set with any error is not returned: the running hotline keeps its previous menus.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from ivr import menu_schema as schema
from ivr import spoken
from ivr.catalog import Catalog, Lexicon, PromptEntry
from ivr.menu_checks import cross_check
from ivr.menu_parts import Origin, ParsedMenus
from ivr.problems import Problem, errors
from ivr.yamlsource import YamlSource, load_validated, read_yaml

M = TypeVar("M", bound=BaseModel)
LEXICON_FILE = "lexicon.yaml"  # beside the catalog
NODE_ADAPTER: TypeAdapter[schema.Node] = TypeAdapter(schema.Node)


@dataclass(frozen=True)
class MenuSet:
    """Everything one call needs from configuration; never changes once loaded."""

    line: schema.LineSettings
    queues: Mapping[str, schema.QueueDef]
    nodes: Mapping[str, schema.Node]
    origins: Mapping[str, Origin]
    catalog: Catalog
    lexicon: Lexicon
    version: str  # short content hash of every source file: which menus served a call
    files: tuple[Path, ...] = field(default=())
    figure_languages: frozenset[str] = frozenset()  # languages `say` nodes can read figures in
    digit_languages: frozenset[str] = frozenset()  # languages with every digit fragment


@dataclass
class LoadResult:
    menus: MenuSet | None
    problems: list[Problem]
    files: list[Path]

    @property
    def ok(self) -> bool:
        return self.menus is not None


def menu_files(menus_dir: Path) -> list[Path]:
    return sorted([*menus_dir.glob("*.yaml"), *menus_dir.glob("*.yml")])


def load_menus(menus_dir: Path, catalog_file: Path) -> LoadResult:

    problems: list[Problem] = []
    files = menu_files(menus_dir)
    if not files:
        problems.append(Problem(menus_dir, 1, "no menu files (*.yaml) found",
                                "add at least one file with a `line:` section and nodes"))
    parts = ParsedMenus()
    for file in files:
        _load_file(file, parts, problems)
    catalog, catalog_source = load_catalog(catalog_file, problems)
    lexicon_file = catalog_file.with_name(LEXICON_FILE)
    lexicon, lexicon_problems = load_lexicon(lexicon_file)
    problems.extend(lexicon_problems)
    if parts.line is None and files:
        problems.append(Problem(files[0], 1, "no `line:` section in any menu file",
                                "add `line:` (name, entry, languages, agent, ...) to one file"))
    if parts.line is not None and catalog is not None:
        problems.extend(cross_check(parts, catalog, catalog_source))
    problems.sort(key=lambda p: (str(p.file), p.line))
    if errors(problems) or parts.line is None or catalog is None or lexicon is None:
        return LoadResult(None, problems, files)
    menus = MenuSet(
        line=parts.line, queues=MappingProxyType(dict(parts.queues)),
        nodes=MappingProxyType(dict(parts.nodes)), origins=MappingProxyType(dict(parts.origins)),
        catalog=catalog, lexicon=lexicon,
        version=_version([*files, catalog_file, lexicon_file]), files=tuple(files),
        figure_languages=spoken.figure_languages(catalog),
        digit_languages=spoken.digit_languages(catalog))
    return LoadResult(menus, problems, files)


def load_lexicon(file: Path) -> tuple[Lexicon | None, list[Problem]]:
    """The pronunciation lexicon beside the catalog; none at all is an empty lexicon (a line
    whose voices read text as written needs none)."""
    if not file.is_file():
        return Lexicon(), []
    return load_validated(file, Lexicon, "pronunciation lexicon",
                          "create it with `reading_voices:` and `words:`", _lexicon_fix)


def _lexicon_fix(message: str) -> str:
    if "pattern" in message:
        return "write the reading as syllables with tone numbers, e.g. huan2 kuan3"
    return "allowed are reading_voices and words (see the comments in prompts/lexicon.yaml)"


def load_catalog(file: Path, problems: list[Problem]) -> tuple[Catalog | None, YamlSource | None]:
    if not file.is_file():
        problems.append(Problem(file, 1, "prompt catalog not found",
                                "create it: `languages:` and `prompts:`"))
        return None, None
    source = read_yaml(file)
    problems.extend(Problem(file, p.line, p.message, p.fix) for p in source.problems)
    if not isinstance(source.data, dict):
        problems.append(Problem(file, 1, "the catalog must be a mapping",
                                "start with `languages:` and `prompts:`"))
        return None, source
    try:
        return Catalog.model_validate(source.data), source
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, source, (), None))
        # Keep what is valid so prompt references can still be checked against it.
        prompts = {}
        for prompt_id, entry in (source.data.get("prompts") or {}).items():
            try:
                prompts[prompt_id] = PromptEntry.model_validate(entry)
            except ValidationError:
                continue
        languages = source.data.get("languages")
        if isinstance(languages, dict) and languages:
            return Catalog.model_construct(languages=languages, prompts=prompts), source
        return None, source


def _load_file(file: Path, parts: ParsedMenus, problems: list[Problem]) -> None:
    source = read_yaml(file)
    parts.sources[file] = source
    problems.extend(Problem(file, p.line, p.message, p.fix) for p in source.problems)
    if any(p.message.startswith("YAML") for p in source.problems):
        parts.unparsed_files.add(file)
    data = source.data
    if not isinstance(data, dict):
        problems.append(Problem(file, 1, "a menu file must be a mapping",
                                "use top-level keys `line:`, `queues:`, `nodes:`"))
        return
    for key in data:
        if key not in schema.MenuFile.model_fields:
            problems.append(Problem(file, source.line_of((key,)), f"unknown section '{key}'",
                                    _did_you_mean(key, schema.MenuFile.model_fields)
                                    or "use `line:`, `queues:` or `nodes:`"))
    if "line" in data:
        _load_line(file, source, data["line"], parts, problems)
    for name, raw in _mapping(data.get("queues"), file, source, "queues", problems).items():
        origin = Origin(file, source.line_of(("queues", name)))
        if name in parts.queue_origins:
            first = parts.queue_origins[name]
            problems.append(Problem(file, origin.line, f"queue '{name}' defined again (first at "
                                    f"{first.file.name}:{first.line})", "keep one definition"))
            continue
        parts.queue_origins[name] = origin
        queue = _validate(schema.QueueDef, raw, source, ("queues", name), None, problems)
        if queue is not None:
            parts.queues[name] = queue
    for node_id, raw in _mapping(data.get("nodes"), file, source, "nodes", problems).items():
        origin = Origin(file, source.line_of(("nodes", node_id)))
        if node_id in parts.origins:
            first = parts.origins[node_id]
            problems.append(Problem(file, origin.line, f"node id defined again (first at "
                                    f"{first.file.name}:{first.line})",
                                    "rename one; node ids are shared by all menu files",
                                    node=node_id))
            continue
        parts.origins[node_id] = origin
        pattern_ok = _validate_node_id(node_id, origin, problems)
        node = _validate_node(raw, source, node_id, problems)
        if node is None or not pattern_ok:
            parts.broken_nodes.add(node_id)
        else:
            parts.nodes[node_id] = node


def _load_line(file: Path, source: YamlSource, raw: Any, parts: ParsedMenus,
               problems: list[Problem]) -> None:
    origin = Origin(file, source.line_of(("line",)))
    if parts.line_origin is not None:
        problems.append(Problem(file, origin.line, f"`line:` defined again (first in "
                                f"{parts.line_origin.file.name}:{parts.line_origin.line})",
                                "keep exactly one `line:` section"))
        return
    parts.line_origin = origin
    parts.line = _validate(schema.LineSettings, raw, source, ("line",), None, problems)


def _mapping(raw: Any, file: Path, source: YamlSource, section: str,
             problems: list[Problem]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem(file, source.line_of((section,)),
                                f"`{section}:` must be a mapping of name -> definition",
                                f"indent the {section} under `{section}:` as `name: {{...}}`"))
        return {}
    return raw


def _validate_node_id(node_id: str, origin: Origin, problems: list[Problem]) -> bool:
    try:
        TypeAdapter(schema.NodeId).validate_python(node_id)
    except ValidationError:
        problems.append(Problem(origin.file, origin.line, "node id must be lower-case words "
                                "joined by '.', e.g. cards.menu", "rename the node",
                                node=node_id))
        return False
    return True


def _validate_node(raw: Any, source: YamlSource, node_id: str,
                   problems: list[Problem]) -> schema.Node | None:
    try:
        return NODE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, source, ("nodes", node_id), node_id))
        return _without_unknown_keys(raw, exc)


def _without_unknown_keys(raw: Any, exc: ValidationError) -> schema.Node | None:
    """A node whose only fault is a misspelt key is otherwise complete: keep it for the
    cross-checks so its other mistakes are reported in the same run."""
    if not isinstance(raw, dict):
        return None
    if any(e["type"] != "extra_forbidden" or len(e["loc"]) != 2 for e in exc.errors()):
        return None
    extra = {str(e["loc"][1]) for e in exc.errors()}
    try:
        return NODE_ADAPTER.validate_python({k: v for k, v in raw.items() if k not in extra})
    except ValidationError:
        return None


def _validate(model: type[M], raw: Any, source: YamlSource,
                            at: tuple[str | int, ...], node: str | None,
                            problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, source, at, node))
        return None


def _schema_problems(exc: ValidationError, source: YamlSource, at: tuple[str | int, ...],
                     node: str | None) -> list[Problem]:
    out = []
    for error in exc.errors():
        full = tuple(error["loc"])
        loc = full
        # A discriminated union puts the chosen kind first in the location; the file has not.
        if at and at[0] == "nodes" and loc and loc[0] in schema.NODE_KINDS:
            loc = loc[1:]
        where = (*at, *loc)
        field_path = ".".join(str(x) for x in loc) or "(node)"
        out.append(Problem(source.file, source.line_of(where), f"{field_path}: {error['msg']}",
                           _fix_for(error, full), node=node))
    return out


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for value in vars(schema).values():
        if isinstance(value, type) and issubclass(value, BaseModel):
            names |= set(value.model_fields)
    return names


def _did_you_mean(word: str, choices: Iterable[object]) -> str:
    # Never the word itself: a name valid elsewhere is no answer where it is not valid.
    names = [str(c) for c in choices if str(c) != str(word)]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _settings_at(loc: tuple[Any, ...]) -> set[str]:
    """The settings valid where an unknown one was found: a node's own fields when the error
    is on a node (its kind leads the location), else every field of the schema."""
    by_kind = {schema.kind_of(model): model for model in schema.NODE_MODELS}
    if len(loc) == 2 and str(loc[0]) in by_kind:
        return set(by_kind[str(loc[0])].model_fields)
    return _all_field_names()


def _fix_for(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        where = f"a {loc[0]} node" if len(loc) == 2 and loc[0] in schema.NODE_KINDS else "here"
        return (_did_you_mean(name, _settings_at(loc))
                or f"remove '{name}': it is not a setting of {where}")
    if kind == "missing":
        return f"add `{name}:`"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return "set `kind:` to one of " + ", ".join(schema.NODE_KINDS)
    if kind == "string_pattern_mismatch":
        return "use lower-case letters, digits, '_' and '.'; keys are one of 0-9 * # (quoted)"
    if kind in ("too_short", "too_long"):
        return "adjust the number of entries"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "use a value within the allowed range"
    if kind == "value_error":
        return "see the message"
    return "correct the value to match the schema (`hotline schema` shows it)"


def _version(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(b"\0")
        digest.update(file.read_bytes() if file.is_file() else b"")
        digest.update(b"\0")
    return digest.hexdigest()[:12]
