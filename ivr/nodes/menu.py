"""`menu`: keys and spoken phrases lead on; silence and wrong answers reprompt; the last
attempt offers an agent; a menu that runs out of attempts sends the caller on to a human.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking, vocabulary
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.matching import phrase_matches
from ivr.ports import Heard


def handle(node: schema.MenuNode, call: Call) -> str:
    state, line = call.state, call.line
    phrases = vocabulary.spoken_phrases(call.menus, node, call.language)
    speaking = asking.speech_languages(call, node)
    ahead = _spoken_ahead(node, call)
    if ahead is not None:
        return ahead
    spoken_failures = 0
    lead: list[str] = []
    for attempt in range(1, node.attempts + 1):
        prompts = [*lead, *node.prompt]
        if attempt == node.attempts and attempt > 1 and node.agent_allowed:
            prompts += line.agent_offer_prompt
        if spoken_failures >= line.speech.attempts and speaking:
            call.note(StepKind.KEYS_ONLY)
            speaking = []
        heard = asking.ask(call, prompts, node.timeout_ms, phrases, languages=speaking,
                           stream=asking.streams(call, node))
        heard = asking.accept_speech(call, heard)
        if speaking and (heard is None or heard.key is None):
            spoken_failures += 1
        if heard is None:
            call.note(StepKind.NO_INPUT)
            lead = list(node.no_input_prompt or line.no_input_prompt)
            continue
        if node.agent_allowed and asking.wants_agent(call, heard):
            call.note(StepKind.ASKED_FOR_AGENT)
            state.reason = "caller-asked-agent"
            return line.agent
        if heard.key is not None and heard.key == node.repeat_key:
            lead = []
            continue
        if heard.key is not None and heard.key == node.back_key and state.menu_stack:
            call.note(StepKind.BACK)
            return state.menu_stack.pop()
        option = match_option(node.options, heard, call.language)
        if option is not None:
            _chosen(call, node, option, heard)
            return option.goto
        call.note(StepKind.NO_MATCH)
        lead = list(node.no_match_prompt or line.no_match_prompt)
    state.reason = "menu-attempts-exhausted"
    return node.fallback or line.exhausted


def _spoken_ahead(node: schema.MenuNode, call: Call) -> str | None:
    """The first menu after the language menu acts on what the caller already said there
    (我要挂失); words that choose nothing here are forgotten, not held against the caller."""
    heard, call.state.spoken_ahead = call.state.spoken_ahead, None
    if heard is None or not heard.text:
        return None
    if node.agent_allowed and asking.wants_agent(call, heard):
        call.note(StepKind.ASKED_FOR_AGENT)
        call.state.reason = "caller-asked-agent"
        return call.line.agent
    option = match_option(node.options, heard, call.language)
    if option is None:
        return None
    _chosen(call, node, option, heard)
    return option.goto


def _chosen(call: Call, node: schema.MenuNode, option: schema.Option, heard: Heard) -> None:
    state = call.state
    if heard.key is not None:
        call.note(StepKind.KEY, heard.key)
        state.choice = state.choice or heard.key
    else:
        call.note(StepKind.SPOKE)
    if option.score is not None:  # who answered and in which queue: the records
        call.emit("survey-answered", {"score": option.score, "by_voice": heard.key is None,
                                      "node": call.node_id, "language": state.language})
    if option.intent:
        state.intent = option.intent
    state.menu_stack.append(call.node_id)


def match_option(options: list[schema.Option], heard: Heard,
                 language: str) -> schema.Option | None:
    for option in options:
        if heard.key is not None and heard.key == option.key:
            return option
    if heard.text:
        for option in options:
            if any(phrase_matches(heard.text, p) for p in option.phrases_for(language)):
                return option
    return None
