"""The interpreter, driven by call transcripts (the same files `hotline simulate --script`
and the real-Asterisk tier run) and by small purpose-built menus."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ivr import menu_schema
from ivr.calendar import is_open, time_between
from ivr.matching import cn_id_ok, cn_mobile_ok, luhn_ok, normalise_phrase, phrase_matches
from ivr.menu_loader import MenuSet, load_menus
from ivr.nodes import REGISTRY
from ivr.outcomes import QueueCall
from ivr.transcripts import Transcript, TranscriptResult, load_transcript, run_transcript
from ivr.verification import hash_secret

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS = sorted((ROOT / "menus" / "transcripts").glob("*.yaml"))
CST = timezone(timedelta(hours=8))
PIN = "135790"
SECRETS = {"pin": hash_secret("pin", PIN)}


@pytest.mark.parametrize("file", TRANSCRIPTS, ids=[f.stem for f in TRANSCRIPTS])
def test_shipped_transcript(menus: MenuSet, file: Path) -> None:
    result = run_transcript(menus, load_transcript(file))
    assert result.passed, result.failures


def transcript(**fields: object) -> Transcript:
    base: dict[str, object] = {"name": "t", "at": "2026-11-23T10:00:00+08:00",
                               "expect": {"outcome": "queue"}}
    return Transcript.model_validate({**base, **fields})


def test_a_wrong_expectation_fails(menus: MenuSet) -> None:
    result = run_transcript(menus, transcript(
        steps=[{"press": "1"}, {"expect_prompt": "cards.menu"}, {"press": "1"}],
        expect={"outcome": "queue", "queue": "cards"}))
    assert not result.passed
    assert any("expected prompt 'cards.menu'" in f for f in result.failures)
    assert any("queue 'cards-priority', expected 'cards'" in f for f in result.failures)


def test_unused_steps_fail(menus: MenuSet) -> None:
    result = run_transcript(menus, transcript(
        steps=[{"press": "1"}, {"press": "1"}, {"press": "9"}],
        expect={"outcome": "queue", "queue": "cards-priority"}))
    assert any("steps never used" in f for f in result.failures)


def test_type_ahead_skips_the_rest_of_an_announcement(menus: MenuSet) -> None:
    # '1' for cmn then '1' for lost card, typed without waiting for the main menu.
    result = run_transcript(menus, transcript(steps=[{"press": "11"}],
                                              expect={"outcome": "queue",
                                                      "queue": "cards-priority"}))
    assert result.passed, result.failures
    assert ("main.menu", "cmn") not in result.caller.played


def test_outcome_carries_everything_the_agent_needs(menus: MenuSet) -> None:
    result = run_transcript(menus, transcript(
        caller_number="13800000002",
        customers=[{"customer_id": "C9", "phones": ["13800000002"], "secrets": SECRETS,
                    "attributes": {"days_overdue": 3, "overdue_amount": "800.00"}}],
        steps=[{"press": "2"}, {"press": "3"}, {"press": "1"}, {"press": PIN},
               {"press": "2"}],
        expect={"outcome": "queue"}))
    outcome = result.outcome
    assert isinstance(outcome, QueueCall)
    assert (outcome.service, outcome.intent, outcome.language, outcome.customer_id) == (
        "collections", "repayment-plan", "yue", "C9")
    assert outcome.queue == "collections-yue"  # the Asterisk queue for the caller's language
    assert "lang-yue" in outcome.skills and "collections" in outcome.skills
    assert outcome.menu_version == menus.version
    assert outcome.path[:2] == ("welcome.start", "welcome.lookup")
    assert outcome.choice == "3"


ACCOUNT = "6200000000001"


def account_entry_call(menus: MenuSet) -> TranscriptResult:
    """A caller keys their loan account number (a sensitive entry); with no secret on file to
    verify them by, they go to an agent."""
    result = run_transcript(menus, transcript(
        caller_number="13911112222",
        customers=[{"customer_id": "C1", "accounts": [ACCOUNT]}],
        steps=[{"press": "1"}, {"press": "3"}, {"press": "1"}, {"press": ACCOUNT + "#"}],
        expect={"outcome": "queue", "customer_id": "C1"}))
    assert result.passed, result.failures
    return result


def test_sensitive_digits_never_reach_path_events_or_outcome(menus: MenuSet) -> None:
    account = ACCOUNT
    result = account_entry_call(menus)
    assert account not in repr(result.outcome)
    assert account not in repr(result.caller.events)
    assert any("13 digits" in e for e in result.caller.events[-1][1]["events"])  # type: ignore


def test_the_recording_starts_after_the_disclosure_and_pauses_for_sensitive_digits(
        menus: MenuSet) -> None:
    result = account_entry_call(menus)
    played = [prompt for prompt, _language in result.caller.played]
    moves = dict(result.caller.recording)
    assert list(moves) == ["start", "pause", "resume"]
    assert played[moves["start"] - 1] == "compliance.recording_disclosure"
    assert played[moves["pause"]] == "loans.enter_account"  # paused before it is asked
    assert played.index("loans.enter_account") < moves["resume"]


def test_every_node_kind_has_a_handler() -> None:
    kinds = {typing.get_args(cls.model_fields["kind"].annotation)[0]
             for cls in typing.get_args(typing.get_args(menu_schema.Node)[0])}
    assert kinds == set(REGISTRY) == set(menu_schema.NODE_KINDS)
    assert all(REGISTRY[kind].model.__name__.lower().startswith(kind.replace("_", ""))
               for kind in kinds)


def test_runaway_flow_is_stopped_and_sent_to_a_human(tmp_path: Path, menus: MenuSet) -> None:
    # A menu whose only option leads back to itself: each pass takes input, so validation
    # allows it; the step limit still ends a caller who keeps pressing 1.
    folder = tmp_path / "menus"
    folder.mkdir()
    line = yaml.safe_load((ROOT / "menus" / "line.yaml").read_text(encoding="utf-8"))
    line["line"].update(entry="start", agent="agent", exhausted="agent", max_steps=10,
                        survey=None, no_agent=None)
    line["nodes"] = {
        "start": {"kind": "play", "prompt": "compliance.recording_disclosure",
                  "interruptible": False, "next": "loop"},
        "loop": {"kind": "menu", "prompt": "main.menu", "options": [{"key": 1, "goto": "loop"}]},
        "agent": {"kind": "queue", "queue": "general", "intent": "agent"},
    }
    line["line"]["business_hours"] = {}
    line["line"]["contact"] = {}
    (folder / "line.yaml").write_text(yaml.safe_dump(line, allow_unicode=True), encoding="utf-8")
    result = load_menus(folder, ROOT / "prompts" / "catalog.yaml")
    assert result.menus is not None, [p.render() for p in result.problems]
    run = run_transcript(result.menus, transcript(steps=[{"press": "1" * 30}],
                                                  expect={"outcome": "failed",
                                                          "reason": "step-limit"}))
    assert run.passed, run.failures


@pytest.mark.parametrize(("digits", "ok"), [
    ("4111111111111111", True), ("4111111111111112", False), ("6222020200112233445", False),
    ("79927398713", False), ("12345", False), ("", False),
])
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(("text", "ok"), [
    ("11010519491231002X", True), ("11010519491231002*", True), ("110105194912310021", False),
    ("11010519491231002", False),
])
def test_resident_id_checksum(text: str, ok: bool) -> None:
    assert cn_id_ok(text) is ok


def test_mobile_numbers() -> None:
    assert cn_mobile_ok("13800000001") and not cn_mobile_ok("12800000001")


@pytest.mark.parametrize(("heard", "phrase", "matches"), [
    ("掛失", "挂失", True),  # a Cantonese caller's traditional characters
    ("我 要 掛 失", "挂失", True),
    ("唔見咗張卡", "唔见咗张卡", True),  # the phrase itself may begin with 唔
    ("我 不 要 挂失", "挂失", False),
    ("我不要再挂失", "挂失", False),
    ("不是挂失是还款", "挂失", False),
    ("不是挂失是还款", "还款", True),
    ("我唔係要掛失", "挂失", False),
    ("我没有丢卡", "丢卡", False),
    ("非常不满意", "满意", False),
    ("非常不满意", "不满意", True),
    ("不好意思我要挂失", "挂失", True),
    ("我特别着急挂失", "挂失", True),
])
def test_traditional_and_simplified_match_and_negations_do_not(
        heard: str, phrase: str, matches: bool) -> None:
    assert phrase_matches(heard, phrase) is matches


def test_phrases_match_inside_speech_regardless_of_spaces_and_width() -> None:
    assert normalise_phrase("我 要 转 人工 。") == "我要转人工"
    assert phrase_matches("我 的 卡 丢 了 要 挂失", "挂失")
    assert phrase_matches("ＥＮＧＬＩＳＨ please", "English")
    assert not phrase_matches("还款", "挂失")
    assert not phrase_matches("anything", "")


HOURS = menu_schema.BusinessHours(weekly={"mon": ["08:00-20:00"], "sat": ["09:00-12:00"]},
                                  holidays=[date(2026, 10, 1)],
                                  extra_workdays=[date(2026, 9, 27)], workday="mon")


@pytest.mark.parametrize(("when", "open_"), [
    (datetime(2026, 11, 23, 8, 0, tzinfo=CST), True),  # Monday opening minute
    (datetime(2026, 11, 23, 20, 0, tzinfo=CST), False),  # closing is exclusive
    (datetime(2026, 11, 23, 1, 0, tzinfo=UTC), True),  # 09:00 in Shanghai
    (datetime(2026, 11, 24, 10, 0, tzinfo=CST), False),  # Tuesday not listed
    (datetime(2026, 10, 1, 10, 0, tzinfo=CST), False),  # holiday
    (datetime(2026, 9, 27, 10, 0, tzinfo=CST), True),  # Sunday worked as a Monday (调休)
])
def test_business_hours(when: datetime, open_: bool) -> None:
    assert is_open(HOURS, when) is open_


def test_time_between_wraps_midnight() -> None:
    night = (time(22, 0), time(8, 0))
    assert time_between(datetime(2026, 1, 1, 23, 0), *night)
    assert time_between(datetime(2026, 1, 1, 7, 59), *night)
    assert not time_between(datetime(2026, 1, 1, 8, 0), *night)


def balance_call(language_key: str, attributes: dict[str, object]) -> list[tuple[str, str]]:
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    result = run_transcript(menus, transcript(
        caller_number="13800000001",
        customers=[{"customer_id": "C1", "phones": ["13800000001"], "attributes": attributes,
                    "secrets": SECRETS}],
        steps=[{"press": language_key}, {"press": "3"}, {"press": "1"}, {"press": PIN},
               {"press": "2"}],
        expect={"outcome": "hangup"}))
    assert result.passed, result.failures
    return result.caller.played


FIGURES = {"balance": "12345.60", "due_date": "2026-12-05", "days_overdue": 0}


def test_balance_and_due_date_are_read_from_fragments_in_mandarin() -> None:
    played = [p for p, lang in balance_call("1", FIGURES) if lang == "cmn"]
    start = played.index("loans.balance_is")
    words = "".join({"say.yuan": "元", "say.jiao": "角", "say.wan": "万",
                     "say.thousand": "千", "say.hundred": "百", "say.ten": "十",
                     "say.year": "年", "say.month": "月", "say.day": "日", "say.liang": "两",
                     "loans.due_is": "|"}.get(p, p[-1] if p.startswith("say.d") else "")
                    for p in played[start + 1:played.index("common.anything_else")])
    assert words == "1万2千3百4十5元6角|2026年十2月5日"  # 一万二千…元六角, 十二月五日


def test_languages_without_figures_hear_the_fallback() -> None:
    played = [p for p, _ in balance_call("3", FIGURES)]
    assert "loans.figures_by_agent" in played and "say.yuan" not in played


def test_an_unknown_balance_is_never_read_out() -> None:
    played = [p for p, _ in balance_call("2", {"days_overdue": 0})]
    assert "loans.figures_by_agent" in played and "loans.balance_is" not in played
