"""Spoken menu choices in the interpreter (recogniser faked: unit tier), and phrase
vocabulary checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.agents import SkillRouter
from ivr.call import Ports
from ivr.interpreter import run_menus
from ivr.menu_loader import MenuSet
from ivr.outcomes import QueueCall
from ivr.ports import Heard, SpeechUnavailable
from ivr.transcripts import (
    ScriptedCaller,
    ScriptedPrompter,
    Transcript,
    TranscriptDirectory,
    run_transcript,
)
from ivr.vocabulary import Vocabulary, grammar, unchecked_languages, vocabulary_problems

ROOT = Path(__file__).resolve().parents[2]


def transcript(steps: list[dict[str, object]], **expect: object) -> Transcript:
    return Transcript.model_validate({"name": "t", "at": "2026-11-23T10:00:00+08:00",
                                      "steps": steps,
                                      "expect": {"outcome": "queue"} | expect})


def test_a_spoken_choice_routes_and_is_stored_with_the_call(menus: MenuSet) -> None:
    result = run_transcript(menus, transcript(
        [{"press": "2"}, {"say": "我 的 卡 丢 了"}], queue="cards-priority", language="yue"))
    assert result.passed, result.failures
    spoken = [data for kind, data in result.caller.events if kind == "speech-result"]
    assert spoken == [{"node": "main.menu", "language": "yue", "text": "我 的 卡 丢 了",
                       "confidence": 1.0, "accepted": True, "interrupted_prompt": False}]


def test_an_unsure_result_is_not_acted_on(menus: MenuSet) -> None:
    result = run_transcript(menus, transcript(
        [{"press": "1"}, {"say": {"text": "挂失", "confidence": 0.3}},
         {"expect_prompt": "sys.no_match"}, {"press": "5"}, {"press": "4"},
         {"message_ms": 5000}, {"press": "1"}, {"press": "1"}], outcome="hangup",
        visits=["complaints.record"]))
    assert result.passed, result.failures
    summary = next(d for k, d in result.caller.events if k == "ivr-finished")
    assert "main.menu: unsure" in summary["events"]  # type: ignore[operator]
    kinds = [(k, d.get("accepted")) for k, d in result.caller.events if k == "speech-result"]
    assert kinds == [("speech-result", False)]


def test_after_the_spoken_attempts_a_menu_listens_for_keys_only(menus: MenuSet) -> None:
    # attempts: 2 spoken tries (line.speech.attempts), then keys; words said now are refused.
    result = run_transcript(menus, transcript(
        [{"press": "1"}, {"say": "天气"}, {"silence": True}, {"say": "挂失"}],
        outcome="queue"))
    assert any("said '挂失' where only keys are heard" in f for f in result.failures)


@dataclass
class BrokenSpeech(ScriptedCaller):
    """A caller whose words never reach a recogniser: the service is down."""

    listened: int = 0
    spoke_first: bool = False
    failures_seen: list[str] = field(default_factory=list)

    def listen(self, languages: list[str], phrases: list[str], timeout_ms: int, *,
               stream: bool = False, prompts: Sequence[tuple[str, str]] = ()) -> Heard | None:
        self.listened += 1
        raise SpeechUnavailable("connection refused", heard_audio=self.spoke_first)


@pytest.mark.parametrize("spoke_first", [False, True])
def test_when_speech_is_down_the_call_goes_on_by_keys(menus: MenuSet,
                                                      spoke_first: bool) -> None:
    steps: list[dict[str, object]] = [{"press": "1"}, {"press": "1"}]
    caller = BrokenSpeech(transcript(steps, queue="cards-priority"), spoke_first=spoke_first)
    ports_outcome = run_menus(menus, _ports(caller, menus))
    assert isinstance(ports_outcome, QueueCall) and ports_outcome.service == "cards-priority"
    assert caller.listened == 1  # never asked again during this call
    summary = next(d for k, d in caller.events if k == "ivr-finished")
    assert "welcome.language: speech unavailable, keys only" in summary["events"]  # type: ignore[operator]


def _ports(caller: ScriptedCaller, menus: MenuSet) -> Ports:
    return Ports(channel=caller, prompter=ScriptedPrompter(caller),
                 directory=TranscriptDirectory(caller.transcript), recorder=caller,
                 events=caller, clock=caller, router=SkillRouter.for_menus(menus),
                 listener=caller)


def test_speaking_instead_of_choosing_a_language_picks_the_detected_one(menus: MenuSet) -> None:
    result = run_transcript(menus, transcript(
        [{"say": {"text": "你 好", "language": "yue"}}, {"press": "1"}],
        queue="cards-priority", language="yue"))
    assert result.passed, result.failures
    summary = next(d for k, d in result.caller.events if k == "ivr-finished")
    assert "welcome.language: detected yue" in summary["events"]  # type: ignore[operator]


def test_words_at_the_language_menu_that_name_a_service_keep_it(menus: MenuSet) -> None:
    """我张卡唔见咗 picks Cantonese and the lost-card line at once: no second question."""
    for words, language in (("我 张 卡 唔 见 咗", "yue"), ("我 要 挂失", "cmn")):
        result = run_transcript(menus, transcript(
            [{"say": {"text": words, "language": language}}],
            queue="cards-priority", language=language))
        assert result.passed, (words, result.failures)
        assert result.outcome is not None and result.outcome.intent == "lost-card"
        assert ("main.menu", language) not in result.caller.played  # never asked


def test_a_negated_phrase_is_not_a_choice(menus: MenuSet) -> None:
    """我不要挂失 must not report a card lost: the main menu asks, the caller presses 2."""
    result = run_transcript(menus, transcript(
        [{"press": "1"}, {"say": {"text": "我 不 要 挂失", "language": "cmn"}},
         {"press": "2"}, {"press": "3"}], queue="cards", intent="cards-general"))
    assert result.passed, result.failures
    assert result.outcome is not None and "cards.lost" not in result.outcome.path


def test_phrases_for_one_language_are_heard_from_its_callers_only(menus: MenuSet) -> None:
    cantonese = run_transcript(menus, transcript(
        [{"press": "2"}, {"say": {"text": "唔 見 咗 張 卡", "language": "yue"}}],
        queue="cards-priority", language="yue"))
    assert cantonese.passed, cantonese.failures
    mandarin = run_transcript(menus, transcript(
        [{"press": "1"}, {"say": {"text": "唔 見 咗 張 卡", "language": "cmn"}},
         {"press": "1"}], queue="cards-priority"))
    assert mandarin.passed, mandarin.failures  # not understood in Mandarin: keys decide


def test_keys_only_lines_never_listen(menus: MenuSet) -> None:
    keys_only = MenuSet(**{**menus.__dict__, "line": menus.line.model_copy(
        update={"speech": menus.line.speech.model_copy(update={"mode": "off"})})})
    result = run_transcript(keys_only, transcript([{"press": "1"}, {"say": "挂失"}]))
    assert any("where only keys are heard" in f for f in result.failures)


# -- vocabulary -------------------------------------------------------------------------------

def test_chinese_phrases_are_split_into_model_words() -> None:
    vocabulary = Vocabulary("small", frozenset({"挂失", "我", "的", "卡", "丢", "了", "[unk]"}))
    assert vocabulary.split("我的卡丢了") == (["我", "的", "卡", "丢", "了"], [])
    assert vocabulary.split("挂失") == (["挂失"], [])
    assert vocabulary.split("挂失 信用卡") == (["挂失"], ["信用卡"])
    assert grammar(["挂失", "我的卡", "信用卡"], vocabulary) == ["挂失", "我 的 卡", "[unk]"]


def test_unk_is_only_added_when_the_model_has_it() -> None:
    assert grammar(["넷"], Vocabulary("ko", frozenset({"넷"}))) == ["넷"]


def test_validation_reports_each_unknown_phrase_at_its_line(menus: MenuSet) -> None:
    words = {"挂失", "卡", "丢", "了", "信用卡", "贷款", "还款", "逾期", "普惠", "助农",
             "农户", "投诉", "意见", "人工", "服务", "转", "客服", "普通话", "国语", "粤语",
             "广东话", "白话"}
    vocabularies = {"cmn": [Vocabulary("small-cn", frozenset(words))], "yue": []}
    problems = vocabulary_problems(menus, vocabularies)
    main_menu = [p for p in problems if p.node == "main.menu"]
    assert [p.message.split("'")[1] for p in main_menu] == ["被盗"]  # 丢卡 = 丢 + 卡
    source = (ROOT / "menus" / "welcome.yaml").read_text(encoding="utf-8").splitlines()
    assert "被盗" in source[main_menu[0].line - 1]
    warnings = unchecked_languages(menus, vocabularies)
    assert [w.message.split("'")[1] for w in warnings] == ["yue"]


def test_unknown_agent_phrases_are_reported_at_the_line_settings(menus: MenuSet) -> None:
    vocabularies = {"cmn": [Vocabulary("tiny", frozenset({"人工"}))]}
    agent = [p for p in vocabulary_problems(menus, vocabularies) if p.node is None]
    assert {p.message.split("'")[1] for p in agent} == {"人工服务", "转人工", "客服"}
    assert all(p.file.name == "line.yaml" for p in agent)
    source = (ROOT / "menus" / "line.yaml").read_text(encoding="utf-8").splitlines()
    assert all("agent_phrases" in source[p.line - 1] for p in agent)
