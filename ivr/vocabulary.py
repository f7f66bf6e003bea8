"""A speech model's vocabulary, and how menu phrases fit it.

Vosk silently drops grammar words that its model does not know, so a phrase an operator adds
can never be recognised without anyone noticing. Phrases are split into the model's words here
(Chinese is written without spaces, so a phrase like 挂失 may be one word or two), for the
recogniser's grammar and for `hotline validate`.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr import menu_schema as schema
from ivr.menu_loader import MenuSet
from ivr.problems import Problem, Severity
from ivr.yamlsource import YamlSource, read_yaml

UNKNOWN_WORD = "[unk]"
_LONGEST_WORD_CHARS = 12


@dataclass(frozen=True)
class Vocabulary:
    model: str  # which model these words belong to (for messages)
    words: frozenset[str] = field(repr=False)

    @property
    def has_unknown_word(self) -> bool:
        """Small Vosk models may have `[unk]`, which absorbs out-of-grammar speech."""
        return UNKNOWN_WORD in self.words

    def split(self, phrase: str) -> tuple[list[str], list[str]]:
        """The phrase as model words, and the parts the model cannot spell."""
        words: list[str] = []
        missing: list[str] = []
        for token in phrase.split():
            if token in self.words:
                words.append(token)
                continue
            pieces = self._segment(token)
            if pieces is None:
                missing.append(token)
            else:
                words.extend(pieces)
        return words, missing

    def _segment(self, token: str) -> list[str] | None:
        """Fewest model words spelling `token` exactly (dynamic programming), or None."""
        best: list[list[str] | None] = [None] * (len(token) + 1)
        best[0] = []
        for end in range(1, len(token) + 1):
            for start in range(max(0, end - _LONGEST_WORD_CHARS), end):
                head = best[start]
                piece = token[start:end]
                if head is not None and piece in self.words:
                    candidate = [*head, piece]
                    current = best[end]
                    if current is None or len(candidate) < len(current):
                        best[end] = candidate
        return best[len(token)]


def grammar(phrases: list[str], vocabulary: Vocabulary) -> list[str]:
    """Vosk grammar entries: each phrase as space-separated model words; phrases the model
    cannot spell are left out (validation reports them), plus `[unk]` when the model has it."""
    entries: list[str] = []
    for phrase in phrases:
        words, missing = vocabulary.split(phrase)
        entry = " ".join(words)
        if words and not missing and entry not in entries:
            entries.append(entry)
    if vocabulary.has_unknown_word:
        entries.append(UNKNOWN_WORD)
    return entries


def spoken_phrases(menus: MenuSet, node: schema.Node, language: str | None = None, *,
                   with_agent: bool = True) -> list[str]:
    """Everything a caller (of `language`, or of any language) may say at a node: its
    options' phrases and, where the line's agent phrases work, those too."""
    if isinstance(node, schema.MenuNode):
        phrases = [p for option in node.options
                   for p in (option.all_phrases() if language is None
                             else option.phrases_for(language))]
        if node.agent_allowed and with_agent:
            phrases += menus.line.agent_phrases
        return phrases
    if isinstance(node, schema.LanguageNode):
        return [p for choice in node.choices for p in choice.phrases]
    return []


def listening_languages(menus: MenuSet, node: schema.Node) -> list[str]:
    """Languages whose callers may answer this node by voice ([] when speech is off)."""
    speech = menus.line.speech
    if not isinstance(node, schema.MenuNode | schema.LanguageNode):
        return []
    if (node.speech or speech.mode) == "off":
        return []
    if isinstance(node, schema.LanguageNode):
        return list(speech.detect_languages or speech.languages)
    return list(speech.languages)


def vocabulary_problems(menus: MenuSet,
                        vocabularies: dict[str, list[Vocabulary]]) -> list[Problem]:
    """Every phrase of every speech-enabled node that a model configured for one of the node's
    languages cannot spell, at the phrase's own line (agent phrases at the line settings)."""
    finder = _LineFinder()
    problems: list[Problem] = []
    agent_languages: set[str] = set()
    for node_id, node in menus.nodes.items():
        origin = menus.origins[node_id]
        languages = listening_languages(menus, node)
        if isinstance(node, schema.MenuNode) and node.agent_allowed:
            agent_languages.update(languages)
        for language in languages:
            for phrase in spoken_phrases(menus, node, language, with_agent=False):
                for message in _unknown(phrase, language, vocabularies):
                    line = finder.line(origin.file, ("nodes", node_id), phrase) or origin.line
                    problems.append(Problem(origin.file, line, message, _FIX, node=node_id))
    line_file = finder.line_file(menus.files)
    for language in sorted(agent_languages):
        for phrase in menus.line.agent_phrases:
            for message in _unknown(phrase, language, vocabularies):
                agent_line = finder.line(line_file, ("line",), phrase) if line_file else None
                problems.append(Problem(line_file or menus.files[0], agent_line or 1,
                                        f"agent {message}", _FIX))
    return problems


_FIX = ("use words the model knows (a synonym), or a model with a larger vocabulary for this "
        "language")


def _unknown(phrase: str, language: str,
             vocabularies: dict[str, list[Vocabulary]]) -> list[str]:
    messages = []
    for vocabulary in vocabularies.get(language, []):
        _words, missing = vocabulary.split(phrase)
        if missing:
            messages.append(f"phrase '{phrase}' ({language}): model {vocabulary.model} does not "
                            f"know {', '.join(repr(m) for m in missing)}, so Vosk drops it and "
                            "it can never be recognised")
    return messages


def unchecked_languages(menus: MenuSet,
                        vocabularies: dict[str, list[Vocabulary]]) -> list[Problem]:
    """Languages callers may speak for which no installed model could be checked."""
    wanted = {lang for node in menus.nodes.values()
              for lang in listening_languages(menus, node)}
    where = _LineFinder().line_file(menus.files) or menus.files[0]
    return [Problem(where, 1, f"speech is on for '{language}' but no installed model could be "
                              "checked, so its callers use keys only",
                    "install one: `hotline models fetch <model>` (see `hotline models list`)",
                    severity=Severity.WARNING)
            for language in sorted(wanted) if not vocabularies.get(language)]


class _LineFinder:
    """Lines of values in the menu files, each file read once."""

    def __init__(self) -> None:
        self.sources: dict[Path, YamlSource] = {}

    def source(self, file: Path) -> YamlSource | None:
        if file not in self.sources:
            try:
                self.sources[file] = read_yaml(file)
            except OSError:
                return None
        return self.sources[file]

    def line(self, file: Path, prefix: tuple[str, ...], value: str) -> int | None:
        source = self.source(file)
        lines = source.value_lines(prefix, value) if source else []
        return lines[0] if lines else None

    def line_file(self, files: tuple[Path, ...]) -> Path | None:
        for file in files:
            source = self.source(file)
            if source is not None and isinstance(source.data, dict) and "line" in source.data:
                return file
        return None
