"""Agents and their skills (`routing/agents.yaml`), validated like the menus, and the routing
policy: which Asterisk queue a caller joins, how strongly each agent fits (member penalty),
how the pool widens while the caller waits.

Asterisk's queues know no skills, so skills become penalties: one queue per service queue of
the menus and caller language (`cards-yue`); each agent with the queue's service skills is a
member, penalty 0 for the strongest skill in the caller's own language, higher for weaker
skills, and `OTHER_LANGUAGE_PENALTY` more for an agent who does not speak it. A caller starts
by accepting only agents who speak their language (`QUEUE_MAX_PENALTY`); the queue rule
widens that to every agent with the skill after `widen_after_s`, so nobody waits for one
perfect agent.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ivr.menu_loader import MenuSet
from ivr.menu_schema import QueueDef
from ivr.outcomes import QueueRoute
from ivr.problems import Problem
from ivr.yamlsource import load_validated

MAX_LEVEL = 5
OTHER_LANGUAGE_PENALTY = 10
WIDE_MAX_PENALTY = OTHER_LANGUAGE_PENALTY + MAX_LEVEL
WIDEN_RULE = "hotline-widen"
LANGUAGE_SKILL_PREFIX = "lang-"

SkillName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
Level = Annotated[int, Field(ge=1, le=MAX_LEVEL)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agent(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable id (no names).")
    extension: str = Field(pattern=r"^[0-9]{3,8}$", description="SIP extension.")
    skills: dict[SkillName, Level] = Field(min_length=1, description=(
        "Skill -> level 1..5: service lines (cards, loans, collections, complaints, "
        "inclusive, vip, general) and languages as lang-<tag> (lang-cmn, lang-yue, ...)."))
    interface: str | None = Field(None, description=(
        "Asterisk interface to ring (default PJSIP/<extension>)."))
    state_interface: str | None = Field(None, description=(
        "Device whose state says the agent is busy (default: the interface)."))
    phone: Literal["desk", "browser"] = Field("desk", description=(
        "desk: a SIP phone on the loopback transport; browser: the console desk's WebRTC "
        "phone (SIP over WebSocket, DTLS-SRTP)."))

    @property
    def ring(self) -> str:
        return self.interface or f"PJSIP/{self.extension}"

    def speaks(self, language: str) -> int:
        return self.skills.get(f"{LANGUAGE_SKILL_PREFIX}{language}", 0)


class RoutingSettings(_Strict):
    widen_after_s: int = Field(30, ge=0, le=600, description=(
        "After this wait, agents who do not speak the caller's language are tried too."))
    wrapup_s: int = Field(10, ge=0, le=300, description="Rest after each call.")
    ring_s: int = Field(15, ge=5, le=60, description="How long one agent rings.")
    wrap_up_limit_s: int = Field(120, ge=0, le=1800, description=(
        "Agents at the console desk are offered no call after one ends until they save its "
        "wrap-up, or at most this long; 0: not held for wrap-up."))
    periodic_announce_s: int = Field(45, ge=0, le=600, description=(
        "How often waiting callers hear line.queue_wait.periodic_prompt (0: never)."))


class AgentsFile(_Strict):
    routing: RoutingSettings = Field(default_factory=lambda: RoutingSettings.model_validate({}))
    agents: list[Agent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> AgentsFile:
        for attribute in ("id", "extension"):
            seen: set[str] = set()
            for agent in self.agents:
                value = getattr(agent, attribute)
                if value in seen:
                    raise ValueError(f"two agents have {attribute} {value!r}")
                seen.add(value)
        return self


@dataclass(frozen=True)
class Member:
    agent: Agent
    penalty: int


def asterisk_queue(queue: str, language: str) -> str:
    return f"{queue}-{language}"


def members(agents: list[Agent], skills: list[str], language: str) -> list[Member]:
    """Agents able to take a queue needing `skills`, best fit first."""
    out = []
    for agent in agents:
        levels = [agent.skills.get(skill, 0) for skill in skills]
        if skills and min(levels) == 0:
            continue
        weakest = min(levels) if levels else MAX_LEVEL
        spoken = agent.speaks(language)
        penalty = (MAX_LEVEL - weakest) + (MAX_LEVEL - spoken if spoken
                                           else OTHER_LANGUAGE_PENALTY)
        out.append(Member(agent, penalty))
    return sorted(out, key=lambda m: (m.penalty, m.agent.id))


@dataclass(frozen=True)
class SkillRouter:
    """`ivr.ports.Router` by skills: where a caller needing `service` goes. Starts with
    agents who speak the caller's language when there are any; otherwise wide at once.
    Built per call from the menus that serve it."""

    queues: Mapping[str, QueueDef]
    default_language: str
    agents: Sequence[Agent] = ()

    @classmethod
    def for_menus(cls, menus: MenuSet, agents: Sequence[Agent] = ()) -> SkillRouter:
        return cls(menus.queues, menus.line.default_language, agents)

    def route(self, service: str, language: str, priority: int) -> QueueRoute:
        language = language or self.default_language
        definition = self.queues.get(service)
        skills = list(definition.skills) if definition else []
        pool = members(list(self.agents), skills, language)
        same_language = [m for m in pool if m.agent.speaks(language)]
        queue = asterisk_queue(service, language)
        if same_language:
            narrow = max(m.penalty for m in same_language)
            return QueueRoute(queue, priority, narrow, WIDEN_RULE)
        return QueueRoute(queue, priority, WIDE_MAX_PENALTY, "")


def load_agents(file: Path) -> tuple[AgentsFile | None, list[Problem]]:
    return load_validated(file, AgentsFile, "agents file",
                          "create it with `routing:` and `agents:`", _fix)


def _fix(message: str) -> str:
    if "two agents" in message:
        return "give every agent its own id and extension"
    if re.search(r"Extra inputs", message):
        return "remove it: allowed are id, extension, skills, interface, state_interface"
    return "see the comments at the top of the file"


def check_agents(agents: AgentsFile, menus: MenuSet, file: Path) -> list[Problem]:
    """Every menu queue in every line language must have someone to answer it."""
    problems = []
    for name, queue in sorted(menus.queues.items()):
        for language in menus.line.call_languages:
            if not members(agents.agents, list(queue.skills), language):
                problems.append(Problem(
                    file, 1, f"nobody can answer queue '{name}' ({language}): no agent has "
                             f"the skills {list(queue.skills)}",
                    "give an agent those skills (their callers would wait forever)"))
    return problems
