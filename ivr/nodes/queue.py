"""`queue`: hand the caller to agents. Tells them how many wait before them and about how
long, offers a callback when the wait is long, then ends the IVR with a queue call routed
by skills (the Router port).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import math

from ivr import asking, spoken
from ivr import menu_schema as schema
from ivr.agents import LANGUAGE_SKILL_PREFIX
from ivr.call import Call, StepKind
from ivr.outcomes import QueueCall
from ivr.ports import ALL_KEYS, QueueLoad

CALLBACK_OFFER_KEY = "1"
CALLBACK_OFFER_TIMEOUT_MS = 3000


def handle(node: schema.QueueNode, call: Call) -> QueueCall | str:
    state = call.state
    asking.announce(call, node.prompt or [])
    wait_s = _announce_wait(node, call)
    settings = call.line.queue_wait
    if node.callback and wait_s is not None and wait_s >= settings.offer_callback_after_s:
        key = call.ports.prompter.play(settings.callback_offer_prompt, call.prompt_language,
                                      ALL_KEYS)
        if key is None:
            key = call.ports.channel.wait_for_key(CALLBACK_OFFER_TIMEOUT_MS)
        chosen = key == CALLBACK_OFFER_KEY
        call.note(StepKind.QUEUE_WAIT,
                  f"{wait_s} s, callback {'chosen' if chosen else 'declined'}")
        if chosen:
            state.intent = state.intent or node.intent
            return node.callback
    # Routed on purpose: the queue node names the need. Sent here by "agent please" or
    # exhausted retries: what the caller chose before says more.
    intent = node.intent if not state.reason else (state.intent or node.intent)
    return call.queue_call(node.queue, priority=node.priority, intent=intent,
                           reason=state.reason or "routed",
                           skills=(*node.skills, f"{LANGUAGE_SKILL_PREFIX}{call.language}"),
                           callback_node=node.callback or "", leave_node=node.leave_to or "",
                           max_wait_s=node.max_wait_s)


def _announce_wait(node: schema.QueueNode, call: Call) -> int | None:
    """Tell the caller how many wait before them and about how long, in their language.
    Returns the estimated wait (None when the queue cannot be read)."""
    info = call.ports.queue_info
    settings = call.line.queue_wait
    if info is None:
        return None
    load = info.load(node.queue, call.language)
    if load is None:
        return None
    if load.logged_agents == 0:
        # Nobody to estimate from: "0 ahead, about 3 minutes" would be a promise nobody
        # keeps. Say so, and count the wait as long enough for the callback offer.
        if settings.announce:
            asking.announce(call, [settings.unstaffed_prompt])
        return max(settings.offer_callback_after_s, settings.average_handle_s)
    wait_s = estimated_wait_s(load, settings.average_handle_s)
    if wait_s == 0 or not settings.announce:
        return wait_s
    speaks = call.prompt_language
    if speaks in call.menus.figure_languages:
        minutes = max(1, math.ceil(wait_s / 60))
        ahead = [settings.ahead_prompt,
                 *spoken.value_fragments("number", str(load.waiting), speaks),
                 settings.callers_prompt] if load.waiting else []  # not "0 callers ahead"
        sequence = [*ahead, settings.wait_prompt,
                    *spoken.value_fragments("number", str(minutes), speaks),
                    settings.minutes_prompt]
    else:
        sequence = [settings.busy_prompt]
    asking.announce(call, sequence)
    return wait_s


def estimated_wait_s(load: QueueLoad, average_handle_s: int) -> int:
    """About how long until an agent is free for a caller joining now: 0 when a ready agent
    waits for them; otherwise the callers ahead share the logged-in agents' calls."""
    position = load.waiting + 1
    if load.ready_agents >= position:
        return 0
    rounds = math.ceil((position - load.ready_agents) / max(1, load.logged_agents))
    return rounds * average_handle_s
