"""The node kinds the interpreter serves: each schema model (ivr.menu_schema.NODE_MODELS)
paired with its handler. The schema's kinds, the loader's list and this registry come from
the one union in the schema; a kind without a handler, or a handler for no kind, stops the
import rather than a call.

A handler takes its node and the `Call` and returns the next node id, or the call's outcome.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ivr import menu_schema as schema
from ivr.call import Call
from ivr.nodes import (
    callback,
    collect,
    complaint,
    condition,
    language,
    lookup,
    menu,
    prompts,
    queue,
    record,
    self_service,
    verify,
)
from ivr.outcomes import Outcome

N = TypeVar("N", bound=schema.NodeBase)


@dataclass(frozen=True)
class NodeKind(Generic[N]):
    model: type[N]
    handle: Callable[[N, Call], str | Outcome]

    @property
    def name(self) -> str:
        return schema.kind_of(self.model)


def _registry(*kinds: NodeKind[Any]) -> Mapping[str, NodeKind[Any]]:
    by_name = {kind.name: kind for kind in kinds}
    missing = set(schema.NODE_KINDS) - set(by_name)
    extra = set(by_name) - set(schema.NODE_KINDS)
    if missing or extra or len(by_name) != len(kinds):
        raise RuntimeError(f"node registry out of step with the schema: without a handler "
                           f"{sorted(missing)}, not in the schema {sorted(extra)}")
    return MappingProxyType(by_name)


REGISTRY: Mapping[str, NodeKind[Any]] = _registry(
    NodeKind(schema.PlayNode, prompts.play),
    NodeKind(schema.MenuNode, menu.handle),
    NodeKind(schema.CollectNode, collect.handle),
    NodeKind(schema.LanguageNode, language.handle),
    NodeKind(schema.ConditionNode, condition.handle),
    NodeKind(schema.LookupNode, lookup.handle),
    NodeKind(schema.QueueNode, queue.handle),
    NodeKind(schema.RecordNode, record.handle),
    NodeKind(schema.CallbackNode, callback.handle),
    NodeKind(schema.ComplaintNode, complaint.handle),
    NodeKind(schema.SayNode, prompts.say),
    NodeKind(schema.VerifyNode, verify.handle),
    NodeKind(schema.FreezeCardNode, self_service.freeze_card),
    NodeKind(schema.PromiseNode, self_service.promise),
    NodeKind(schema.TicketStatusNode, self_service.ticket_status),
    NodeKind(schema.GotoNode, prompts.goto),
    NodeKind(schema.HangupNode, prompts.hangup),
)
