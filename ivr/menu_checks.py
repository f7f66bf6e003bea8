"""Cross-checks over all menu files and the prompt catalog: the mistakes the schema alone
cannot see (dangling targets, unreachable nodes, clashing keys, silent loops, missing prompts,
unknown queues, recorded queues reached without the recording disclosure).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import difflib
import zoneinfo
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from ivr import menu_schema as schema
from ivr import spoken
from ivr.catalog import Catalog
from ivr.matching import normalise_phrase
from ivr.menu_parts import Origin, ParsedMenus
from ivr.problems import Problem, Severity
from ivr.yamlsource import YamlSource


def cross_check(parts: ParsedMenus, catalog: Catalog,
                catalog_source: YamlSource | None) -> list[Problem]:
    if parts.line is None or parts.line_origin is None:
        return []
    checker = _Checker(parts, parts.line, parts.line_origin, catalog, catalog_source)
    return list(checker.run())


class _Checker:
    def __init__(self, parts: ParsedMenus, line: schema.LineSettings, line_origin: Origin,
                 catalog: Catalog, catalog_source: YamlSource | None) -> None:
        self.parts = parts
        self.line = line
        self.line_origin = line_origin
        self.catalog = catalog
        self.catalog_source = catalog_source
        self.defined = set(parts.origins)
        self.figure_languages = spoken.figure_languages(catalog)

    def run(self) -> Iterator[Problem]:
        complete = not self.parts.unparsed_files
        if complete:
            yield from self._line_references()
        for node_id, node in self.parts.nodes.items():
            if complete:
                yield from self._targets(node_id, node)
            yield from self._duplicates(node_id, node)
            yield from self._queues(node_id, node)
            yield from self._conditions(node_id, node)
            yield from self._prompts(node_id, node)
            yield from self._figures(node_id, node)
            yield from self._sensitive(node_id, node)
        yield from self._line_prompts()
        yield from self._recording_categories()
        yield from self._silent_loops()
        if complete:
            yield from self._unreachable()
            yield from self._disclosure()
            yield from self._verified_first()
            yield from self._lookup_slots()

    # -- helpers ----------------------------------------------------------------------------

    def _at(self, node_id: str, message: str, fix: str,
            severity: Severity = Severity.ERROR, value: object = None,
            last: bool = False) -> Problem:
        """A problem on a node, on the exact line holding `value` when it is given."""
        origin = self.parts.origins[node_id]
        line = origin.line
        source = self.parts.sources.get(origin.file)
        if value is not None and source is not None:
            lines = source.value_lines(("nodes", node_id), value)
            if lines:
                line = lines[-1] if last else lines[0]
        return Problem(origin.file, line, message, fix, node=node_id, severity=severity)

    def _at_line(self, message: str, fix: str) -> Problem:
        return Problem(self.line_origin.file, self.line_origin.line, message, fix, node=None)

    def _suggest(self, target: str) -> str:
        close = difflib.get_close_matches(target, sorted(self.defined), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"point it at an existing node{hint} or define node '{target}'"

    # -- checks -----------------------------------------------------------------------------

    def _line_references(self) -> Iterator[Problem]:
        for name in ("entry", "agent", "exhausted", "survey", "no_agent"):
            target = getattr(self.line, name)
            if target is not None and target not in self.defined:
                yield self._at_line(f"line.{name} names node '{target}', which does not exist",
                                    self._suggest(target))
        no_agent = self.parts.nodes.get(self.line.no_agent or "")
        if no_agent is not None and not isinstance(no_agent, schema.MenuNode
                                                   | schema.CallbackNode):
            yield self._at_line(f"line.no_agent names a {no_agent.kind} node: callers come "
                                "back from a queue only to a menu or a callback node",
                                "point it at a menu offering a callback and a message")
        for language in self.line.languages:
            if language not in self.catalog.languages:
                yield self._at_line(f"language '{language}' is enabled but the prompt catalog "
                                    f"does not list it",
                                    "add it to `languages:` in prompts/catalog.yaml")
        for name, hours in self.line.business_hours.items():
            try:
                zoneinfo.ZoneInfo(hours.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                yield self._at_line(f"business_hours.{name}: unknown timezone "
                                    f"'{hours.timezone}'", "use an IANA name like Asia/Shanghai")

    def _targets(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        for edge in node.edges():
            if edge.target not in self.defined:
                label = f" ({edge.label})" if edge.label else ""
                yield self._at(node_id, f"target '{edge.target}'{label} does not exist",
                               self._suggest(edge.target), value=edge.target)

    def _duplicates(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        choices: list[tuple[str | None, list[str], str]] = []
        if isinstance(node, schema.MenuNode):
            choices = [(o.key, o.all_phrases(), f"option → {o.goto}") for o in node.options]
            for option in node.options:
                for language in sorted(set(option.language_phrases) - set(self.line.languages)):
                    yield self._at(node_id, f"phrases for language '{language}', which is not "
                                   "enabled in line.languages",
                                   "use an enabled language tag or remove them",
                                   value=language)
            if node.agent_allowed:
                choices.append((self.line.agent_key, self.line.agent_phrases,
                                "the line's agent key/phrases"))
            for name in ("repeat_key", "back_key"):
                key = getattr(node, name)
                if key is not None:
                    choices.append((key, [], name))
        elif isinstance(node, schema.LanguageNode):
            choices = [(c.key, c.phrases, f"language {c.language}") for c in node.choices]
            seen_languages: set[str] = set()
            for choice in node.choices:
                if choice.language in seen_languages:
                    yield self._at(node_id, f"language '{choice.language}' offered twice",
                                   "offer each language once")
                seen_languages.add(choice.language)
                if choice.language not in self.line.call_languages:
                    yield self._at(node_id, f"language '{choice.language}' is not enabled in "
                                   f"line.languages or line.dialects",
                                   "enable it or remove the choice")
        keys: dict[str, str] = {}
        phrases: dict[str, str] = {}
        for key, said, what in choices:
            if key is not None:
                if key in keys:
                    yield self._at(node_id, f"key '{key}' is used twice: {keys[key]} and {what}",
                                   "give each choice its own key", value=key, last=True)
                keys.setdefault(key, what)
            for phrase in said:
                norm = normalise_phrase(phrase)
                if norm in phrases:
                    yield self._at(node_id, f"phrase '{phrase}' is used twice: {phrases[norm]} "
                                   f"and {what}", "make each phrase lead to one choice",
                                   value=phrase, last=True)
                phrases.setdefault(norm, what)

    def _queues(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        if isinstance(node, schema.QueueNode | schema.CallbackNode) and node.queue is not None:
            if node.queue not in self.parts.queue_origins:
                close = difflib.get_close_matches(node.queue, sorted(self.parts.queue_origins),
                                                  n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                yield self._at(node_id, f"unknown queue '{node.queue}'",
                               f"use a queue from a `queues:` section{hint} or define it",
                               value=node.queue)
        if isinstance(node, schema.QueueNode):
            queue = self.parts.queues.get(node.queue)
            unrouted = sorted(set(node.skills) - set(queue.skills)) if queue else []
            if unrouted:
                # Asterisk's members come from the queue's skills: the node's only reach
                # the agent's screen, so a careful operator edit would route nobody by them.
                yield self._at(node_id, f"skills {unrouted} are not skills of queue "
                               f"'{node.queue}': agents are chosen by the queue's skills "
                               f"{list(queue.skills) if queue else []}, so these change no "
                               "routing", f"add them to queues.{node.queue}.skills, or "
                               "remove them here", severity=Severity.WARNING)
            # A waiting caller leaves the queue to these; the dialplan resumes the menus there.
            for target, kind in ((node.callback, "callback"), (node.leave_to, "menu")):
                found = self.parts.nodes.get(target) if target else None
                if found is not None and found.kind != kind:
                    yield self._at(node_id, f"'{target}' is a {found.kind} node, not a "
                                   f"{kind} node", f"point it at a {kind} node", value=target)
            if node.max_wait_s and self.line.no_agent is None:
                yield self._at(node_id, f"callers no agent takes within {node.max_wait_s} s "
                               "go on waiting in the fallback queue: the line has no "
                               "`no_agent` node", "set line.no_agent to a menu that offers a "
                               "callback and a message", severity=Severity.WARNING)

    def _conditions(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        if not isinstance(node, schema.ConditionNode):
            return
        for rule in node.rules:
            for hours in (rule.when.open, rule.when.closed):
                if hours is not None and hours not in self.line.business_hours:
                    yield self._at(node_id, f"business hours '{hours}' are not defined",
                                   "define them under line.business_hours", value=hours)
            for language in rule.when.language or []:
                if language not in self.line.languages:
                    yield self._at(node_id, f"condition tests language '{language}', which is "
                                   "not enabled", "enable it in line.languages or drop the test")

    def _prompt_problems(self, prompt_ids: Iterable[str], languages: Iterable[str],
                         where: tuple[Path, int, str | None]) -> Iterator[Problem]:
        file, line, node_id = where
        for prompt_id in prompt_ids:
            entry = self.catalog.prompts.get(prompt_id)
            if entry is None:
                close = difflib.get_close_matches(prompt_id, sorted(self.catalog.prompts), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                yield Problem(file, self._prompt_line(node_id, prompt_id, line),
                              f"unknown prompt '{prompt_id}'",
                              f"add it to prompts/catalog.yaml{hint}", node=node_id)
                continue
            missing = [lang for lang in languages if lang not in entry.text]
            if missing:
                yield Problem(file, self._prompt_line(node_id, prompt_id, line),
                              f"prompt '{prompt_id}' has no text for "
                              f"{', '.join(missing)}",
                              f"add {', '.join(missing)} text to '{prompt_id}' in "
                              f"prompts/catalog.yaml (line {self._catalog_line(prompt_id)})",
                              node=node_id)

    def _prompt_line(self, node_id: str | None, prompt_id: str, default: int) -> int:
        origin = self.parts.origins.get(node_id) if node_id else self.line_origin
        source = self.parts.sources.get(origin.file) if origin else None
        if source is None:
            return default
        lines = source.value_lines(("nodes", node_id) if node_id else ("line",), prompt_id)
        return lines[0] if lines else default

    def _catalog_line(self, prompt_id: str) -> int:
        if self.catalog_source is None:
            return 1
        return self.catalog_source.line_of(("prompts", prompt_id))

    def _prompts(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        origin = self.parts.origins[node_id]
        where = (origin.file, origin.line, node_id)
        if isinstance(node, schema.LanguageNode):
            for choice in node.choices:
                hears = [self.line.prompt_language(choice.language)]
                yield from self._prompt_problems(choice.prompt, hears, where)
                if node.preferred_prompt:
                    yield from self._prompt_problems([node.preferred_prompt], hears, where)
            return
        yield from self._prompt_problems(node.prompt_ids(), self.line.languages, where)

    def _figures(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        if not isinstance(node, schema.SayNode) or node.fallback_prompt:
            return
        for language in self.line.languages:
            if language not in self.figure_languages:
                yield self._at(node_id, f"the catalog cannot read figures in {language} (no "
                               "say.* fragments)", "add `fallback_prompt:` for such languages, "
                               f"or say.* fragments with {language} text")

    def _recording_categories(self) -> Iterator[Problem]:
        known = self.line.recordings.retention_years
        for name, queue in self.parts.queues.items():
            if queue.recording_category and queue.recording_category not in known:
                origin = self.parts.queue_origins[name]
                yield Problem(origin.file, origin.line, f"queue '{name}': recording_category "
                              f"'{queue.recording_category}' has no retention period",
                              f"add it to line.recordings.retention_years ({', '.join(known)})")

    def _sensitive(self, node_id: str, node: schema.Node) -> Iterator[Problem]:
        if (isinstance(node, schema.CollectNode) and node.check in ("luhn", "cn_id")
                and not node.sensitive):
            yield self._at(node_id, f"collects a {'card' if node.check == 'luhn' else 'ID'} "
                           "number without `sensitive: true`: its key tones would be in the "
                           "call recording", "set `sensitive: true`")

    def _line_prompts(self) -> Iterator[Problem]:
        where = (self.line_origin.file, self.line_origin.line, None)
        yield from self._prompt_problems(self.line.prompt_ids(), self.line.languages, where)
        disclosure = self.catalog.prompts.get(self.line.recording_disclosure_prompt)
        if disclosure is not None and disclosure.regulated != "recording-disclosure":
            yield self._at_line(f"recording_disclosure_prompt "
                                f"'{self.line.recording_disclosure_prompt}' is not marked "
                                "`regulated: recording-disclosure` in the catalog",
                                "mark it so its wording changes get compliance review")

    def _graph(self) -> dict[str, list[schema.Edge]]:
        graph = {node_id: node.edges() for node_id, node in self.parts.nodes.items()}
        # From any menu the caller may ask for an agent or exhaust the attempts.
        for node_id, node in self.parts.nodes.items():
            if node.kind in schema.INPUT_KINDS:
                graph[node_id] = [*graph[node_id],
                                  schema.Edge(label="agent", target=self.line.agent,
                                              takes_input=True),
                                  schema.Edge(label="exhausted", target=self.line.exhausted,
                                              takes_input=True)]
            # No agent within the queue's time: the dialplan resumes the menus there.
            if isinstance(node, schema.QueueNode) and node.max_wait_s and self.line.no_agent:
                graph[node_id] = [*graph[node_id],
                                  schema.Edge(label="no agent in time",
                                              target=self.line.no_agent, takes_input=True)]
        return graph

    def _unreachable(self) -> Iterator[Problem]:
        graph = self._graph()
        roots = [self.line.entry, self.line.agent, self.line.exhausted]
        seen = _reach(graph, roots + ([self.line.survey] if self.line.survey else []))
        for node_id in self.parts.nodes:
            if node_id not in seen:
                yield self._at(node_id, "unreachable: no path from the entry leads here",
                               "point an option or `next:` at it, or delete it")

    def _silent_loops(self) -> Iterator[Problem]:
        graph = {node_id: [e.target for e in edges if not e.takes_input]
                 for node_id, edges in self._graph().items()
                 if self.parts.nodes[node_id].kind not in schema.INPUT_KINDS}
        reported: set[frozenset[str]] = set()
        for cycle in _cycles(graph):
            key = frozenset(cycle)
            if key in reported:
                continue
            reported.add(key)
            yield self._at(cycle[0], "loop without caller input: "
                           + " → ".join([*cycle, cycle[0]]),
                           "put a menu or another input node in the loop, or end it")

    def _disclosure(self) -> Iterator[Problem]:
        disclosure = self.line.recording_disclosure_prompt
        graph = self._graph()
        parents: dict[str, str | None] = {self.line.entry: None}
        todo = deque([self.line.entry])
        while todo:
            node_id = todo.popleft()
            node = self.parts.nodes.get(node_id)
            if node is None:
                continue
            if disclosure in node.plays():
                if isinstance(node, schema.PlayNode) and node.interruptible:
                    yield self._at(node_id, "a key press can skip the recording disclosure",
                                   "set `interruptible: false` on this node")
                continue
            if self._records(node):
                path = _path_to(parents, node_id)
                what = (f"recorded queue '{node.queue}'"
                        if isinstance(node, schema.QueueNode) else "a message recording")
                yield self._at(node_id, f"callers reach {what} without hearing the recording "
                               f"disclosure (path: {' → '.join(path)})",
                               f"play '{disclosure}' on every path before this node")
                continue
            for edge in graph.get(node_id, []):
                if edge.target not in parents:
                    parents[edge.target] = node_id
                    todo.append(edge.target)

    def _verified_first(self) -> Iterator[Problem]:
        """Nothing about an account before verification: every path from where a session
        starts (the entry, the survey, a return from a queue) to a node that tells or does
        something with an account passes a `verify` node's verified exit first. A lookup may
        change who the caller is, and a new session knows nobody: both start unverified."""
        graph = self._graph()
        starts = [self.line.entry, *([self.line.survey] if self.line.survey else [])]
        parents: dict[tuple[str, bool], tuple[str, bool] | None] = {
            (start, False): None for start in starts}
        todo = deque(parents)
        reported: set[str] = set()
        while todo:
            node_id, verified = todo.popleft()
            node = self.parts.nodes.get(node_id)
            if node is None:
                continue
            if not verified and node_id not in reported and self._tells_account(node):
                reported.add(node_id)
                path = _state_path(parents, (node_id, verified))
                yield self._at(node_id, "callers who have not been verified reach account "
                               f"details here (path: {' → '.join(path)})",
                               "put a `verify` node on every path before it and go on from "
                               "its `verified` exit")
                continue
            for edge in graph.get(node_id, []):
                after = verified
                if isinstance(node, schema.VerifyNode):
                    after = edge.label == "verified" and edge.target == node.verified
                elif isinstance(node, (schema.LookupNode, schema.QueueNode)):
                    after = False
                state = (edge.target, after)
                if state not in parents:
                    parents[state] = (node_id, verified)
                    todo.append(state)

    def _tells_account(self, node: schema.Node) -> bool:
        return node.reads_account() or any(self.catalog.tells_account(p)
                                           for p in node.prompt_ids())

    def _records(self, node: schema.Node) -> bool:
        if isinstance(node, schema.RecordNode):
            return True
        if isinstance(node, schema.QueueNode):
            queue = self.parts.queues.get(node.queue)
            return queue is not None and queue.recorded
        return False

    def _lookup_slots(self) -> Iterator[Problem]:
        collected = {n.slot for n in self.parts.nodes.values()
                     if isinstance(n, schema.CollectNode)}
        for node_id, node in self.parts.nodes.items():
            if isinstance(node, schema.LookupNode) and node.slot is not None:
                if node.slot not in collected:
                    yield self._at(node_id, f"lookup uses slot '{node.slot}', which no collect "
                                   "node fills", "collect it first or fix the slot name")


def _reach(graph: dict[str, list[schema.Edge]], starts: list[str]) -> set[str]:
    seen = set(starts)
    todo = deque(starts)
    while todo:
        for edge in graph.get(todo.popleft(), []):
            if edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen


def _path_to(parents: dict[str, str | None], node_id: str) -> list[str]:
    path: list[str] = []
    current: str | None = node_id
    while current is not None:
        path.append(current)
        current = parents[current]
    return path[::-1]


def _state_path(parents: dict[tuple[str, bool], tuple[str, bool] | None],
                state: tuple[str, bool]) -> list[str]:
    path: list[str] = []
    current: tuple[str, bool] | None = state
    while current is not None:
        path.append(current[0])
        current = parents[current]
    return path[::-1]


def _cycles(graph: dict[str, list[str]]) -> Iterator[list[str]]:
    """Each elementary cycle once per entry point found by depth-first search."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node_id: str) -> Iterator[list[str]]:
        state[node_id] = 1
        stack.append(node_id)
        for target in graph.get(node_id, []):
            if target not in graph:
                continue
            if state.get(target) == 1:
                yield stack[stack.index(target):]
            elif target not in state:
                yield from visit(target)
        stack.pop()
        state[node_id] = 2

    for node_id in graph:
        if node_id not in state:
            yield from visit(node_id)
