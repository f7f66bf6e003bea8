"""Mandarin prompts as tone-numbered pinyin: the lexicon wins over the converter, a prompt's
own `say:` wins over both, digits and punctuation reach the voice as it reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.catalog import Catalog, Lexicon
from ivr.menu_loader import load_lexicon
from speech.pronounce import spoken_text, to_pinyin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    loaded, problems = load_lexicon(ROOT / "prompts" / "lexicon.yaml")
    assert loaded is not None, problems
    return loaded


def test_the_lexicon_wins_over_the_converter(lexicon: Lexicon) -> None:
    words = lexicon.words["cmn"]
    assert to_pinyin("贷款与还款请按3", words) == "dai4 kuan3 yu3 huan2 kuan3 qing3 an4 3"
    assert to_pinyin("您前面还有", words) == "nin2 qian2 mian4 hai2 you3"
    assert to_pinyin("重听请按井号键。", words) == "chong2 ting1 qing3 an4 jing3 hao4 jian4 ."
    assert to_pinyin("等候时间较长", words) == "deng3 hou4 shi2 jian1 jiao4 chang2"
    # Without the lexicon the converter's phrase dictionary says hai2 kuan3 and zhong4.
    assert to_pinyin("还款，重听", {}) == "hai2 kuan3 , zhong4 ting1"


def test_the_longest_lexicon_word_is_taken_first() -> None:
    assert to_pinyin("余额为", {"余额": "yu2 e2", "余额为": "yu2 e2 wei2"}) == "yu2 e2 wei2"


def test_neutral_tone_digits_and_latin_reach_the_voice_as_written() -> None:
    assert to_pinyin("我们的", {}) == "wo3 men5 de5"
    assert to_pinyin("请按1，ABC", {}) == "qing3 an4 1, ABC"


def test_a_prompts_own_say_wins_and_text_voices_get_the_text(lexicon: Lexicon) -> None:
    catalog = Catalog.model_validate({
        "languages": {"cmn": "普通话", "yue": "粤语"},
        "voices": {"cmn": {"engine_voice": "sit/cmn-Latn-pinyin", "reads": "pinyin"},
                   "yue": {"engine_voice": "sit/yue"}},
        "prompts": {"p": {"text": {"cmn": "重听", "yue": "重聽"}},
                    "q": {"text": {"cmn": "行长"}, "say": {"cmn": "hang2 zhang3"}}}})
    assert spoken_text(catalog, lexicon, "p", "cmn") == "chong2 ting1"
    assert spoken_text(catalog, lexicon, "p", "yue") == "重聽"
    assert spoken_text(catalog, lexicon, "q", "cmn") == "hang2 zhang3"


def test_a_reading_without_tone_numbers_is_refused_with_its_line(tmp_path: Path) -> None:
    file = tmp_path / "lexicon.yaml"
    file.write_text("words:\n  cmn:\n    还款: huan kuan\n", encoding="utf-8")
    loaded, problems = load_lexicon(file)
    assert loaded is None and problems and problems[0].line == 3
    assert "tone numbers" in problems[0].fix
