"""Menu trees as pictures for operators and reviewers: Mermaid (renders in GitLab/GitHub and
most Markdown viewers) and Graphviz DOT (`dot -Tsvg`).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from collections import deque

from ivr import menu_schema as schema
from ivr.menu_loader import MenuSet

_SHAPES = {  # Mermaid node shapes by kind: inputs are rounded, outcomes are stadiums
    "menu": ("([", "])"), "language": ("([", "])"), "collect": ("([", "])"),
    "callback": ("([", "])"), "record": ("([", "])"), "condition": ("{", "}"),
    "lookup": ("[[", "]]"), "queue": ("[/", "/]"), "hangup": ("[\\", "\\]"),
}


def subtree(menus: MenuSet, root: str | None = None) -> list[str]:
    """Node ids reachable from `root` (default: the entry), in breadth-first order."""
    start = root or menus.line.entry
    if start not in menus.nodes:
        raise KeyError(f"no node '{start}'")
    seen = [start]
    todo = deque([start])
    while todo:
        for edge in menus.nodes[todo.popleft()].edges():
            if edge.target not in seen and edge.target in menus.nodes:
                seen.append(edge.target)
                todo.append(edge.target)
    return seen


def _label(node_id: str, node: schema.Node, menus: MenuSet) -> str:
    detail: str = node.kind
    if isinstance(node, schema.QueueNode):
        detail = f"queue {node.queue}" + (f" · P{node.priority}" if node.priority else "")
    elif isinstance(node, schema.CollectNode):
        detail = f"collect {node.slot}" + (" · sensitive" if node.sensitive else "")
    text = node.description or _first_prompt_text(node, menus)
    return f"{node_id}\\n{detail}" + (f"\\n{text[:28]}" if text else "")


def node_words(menus: MenuSet, length: int = 24) -> dict[str, str]:
    """Each node in a few words for people (the agent's screen): its description, else the
    start of its first prompt in the line's default language, else its id."""
    words = {}
    for node_id, node in menus.nodes.items():
        text = node.description or _first_prompt_text(node, menus)
        words[node_id] = (text[:length] + ("…" if len(text) > length else "")) if text \
            else node_id
    return words


def _first_prompt_text(node: schema.Node, menus: MenuSet) -> str:
    for prompt_id in node.prompt_ids():
        entry = menus.catalog.prompts.get(prompt_id)
        if entry is not None:
            return entry.text.get(menus.line.default_language, "")
    return ""


def _mermaid_id(node_id: str) -> str:
    return node_id.replace(".", "_")


def _clean(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(menus: MenuSet, root: str | None = None) -> str:
    lines = ["flowchart TD"]
    ids = subtree(menus, root)
    for node_id in ids:
        node = menus.nodes[node_id]
        left, right = _SHAPES.get(node.kind, ("[", "]"))
        label = _clean(_label(node_id, node, menus)).replace("\\n", "<br/>")
        lines.append(f'    {_mermaid_id(node_id)}{left}"{label}"{right}')
    for node_id in ids:
        for edge in menus.nodes[node_id].edges():
            arrow = f'-->|"{_clean(edge.label)}"|' if edge.label else "-->"
            lines.append(f"    {_mermaid_id(node_id)} {arrow} {_mermaid_id(edge.target)}")
    return "\n".join(lines) + "\n"


def to_dot(menus: MenuSet, root: str | None = None) -> str:
    shapes = {"menu": "box", "language": "box", "collect": "box", "callback": "box",
              "record": "box", "condition": "diamond", "lookup": "box3d",
              "queue": "parallelogram", "hangup": "octagon"}
    lines = ["digraph menus {", '  rankdir=TB; node [fontname="Noto Sans CJK SC"];']
    ids = subtree(menus, root)
    for node_id in ids:
        node = menus.nodes[node_id]
        style = ', style="rounded"' if node.kind in schema.INPUT_KINDS else ""
        lines.append(f'  "{node_id}" [shape={shapes.get(node.kind, "ellipse")}{style}, '
                     f'label="{_clean(_label(node_id, node, menus))}"];')
    for node_id in ids:
        for edge in menus.nodes[node_id].edges():
            lines.append(f'  "{node_id}" -> "{edge.target}" [label="{_clean(edge.label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
