"""`language`: the caller picks a language or dialect by key or by naming it; a caller who
just speaks gets the language whose model understood best; silence gets the default.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.matching import phrase_matches
from ivr.ports import ALL_KEYS

PREFERRED_LANGUAGE = "preferred_language"  # the customer attribute that names it


def handle(node: schema.LanguageNode, call: Call) -> str:
    state = call.state
    if _keeps_preferred(node, call):
        return node.next
    for _attempt in range(node.attempts):
        heard = asking.accept_speech(call, asking.ask_language(call, node))
        if heard is None:
            continue
        for choice in node.choices:
            if (heard.key is not None and heard.key == choice.key) or (
                    heard.text and any(phrase_matches(heard.text, p) for p in choice.phrases)):
                state.language = choice.language
                call.note(StepKind.LANGUAGE_CHOSEN, choice.language)
                state.spoken_ahead = heard if heard.text else None
                return node.next
        if heard.text and heard.language in call.line.languages:
            state.language = heard.language
            call.note(StepKind.LANGUAGE_DETECTED, heard.language)
            state.spoken_ahead = heard
            return node.next
        call.note(StepKind.NO_MATCH)
    state.language = node.default or call.line.default_language
    call.note(StepKind.LANGUAGE_DEFAULT, state.language)
    return node.next


def _keeps_preferred(node: schema.LanguageNode, call: Call) -> bool:
    """A known customer's preferred language (or dialect) is chosen without asking; the
    prompt saying so, in that language, lets them press `change_key` to be asked after all.
    Another key pressed over it answers the next menu."""
    customer = call.state.customer
    preferred = customer.attributes.get(PREFERRED_LANGUAGE) if customer else None
    offered = {choice.language for choice in node.choices}
    if node.preferred_prompt is None or not isinstance(preferred, str) or \
            preferred not in offered:
        return False
    call.state.language = preferred
    key = call.ports.prompter.play(node.preferred_prompt, call.prompt_language, ALL_KEYS)
    if key is None and node.change_wait_ms:
        key = call.ports.channel.wait_for_key(node.change_wait_ms)
    if key == node.change_key:
        call.note(StepKind.LANGUAGE_CHANGE_ASKED, preferred)
        return False
    call.note(StepKind.LANGUAGE_PREFERRED, preferred)
    call.state.pending_key = key
    return True
