"""`language`: the caller picks a language or dialect by key or by naming it; a caller who
just speaks gets the language whose model understood best; silence gets the default.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from ivr import asking
from ivr import menu_schema as schema
from ivr.call import Call, StepKind
from ivr.matching import phrase_matches


def handle(node: schema.LanguageNode, call: Call) -> str:
    state = call.state
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
