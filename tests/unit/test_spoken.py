"""Spoken numbers: fragments joined as their Mandarin text must read as a Chinese speaker
reads them aloud."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ivr import spoken

CMN = {f"say.d{d}": "零一二三四五六七八九"[d] for d in range(10)} | {
    "say.liang": "两", "say.yao": "幺", "say.ten": "十", "say.hundred": "百",
    "say.thousand": "千", "say.wan": "万", "say.yi": "亿", "say.yuan": "元", "say.jiao": "角",
    "say.fen": "分", "say.zheng": "整", "say.year": "年", "say.month": "月", "say.day": "日"}


def text(fragments: list[str]) -> str:
    return "".join(CMN[f] for f in fragments)


@pytest.mark.parametrize(("value", "reading"), [
    (0, "零"), (2, "两"), (10, "十"), (12, "十二"), (20, "二十"), (22, "二十二"),
    (100, "一百"), (110, "一百一十"), (200, "两百"), (202, "两百零二"), (1005, "一千零五"),
    (1010, "一千零一十"), (1050, "一千零五十"), (2200, "两千二百"), (10000, "一万"),
    (20000, "两万"), (10050, "一万零五十"), (100000, "十万"), (120000, "十二万"),
    (1000500, "一百万零五百"), (12345678, "一千二百三十四万五千六百七十八"),
    (3020000, "三百零二万"), (200000000, "两亿"), (100000001, "一亿零一"),
    (1000010000, "十亿零一万"),
])
def test_numbers(value: int, reading: str) -> None:
    assert text(spoken.number(value)) == reading


@pytest.mark.parametrize(("value", "reading"), [
    ("1234.56", "一千二百三十四元五角六分"), ("1200", "一千二百元整"), ("2", "两元整"),
    ("0.2", "两角"),
    ("2.25", "两元两角五分"), ("12", "十二元整"), ("22", "二十二元整"),
    ("0.05", "五分"), ("5.06", "五元零六分"), ("0", "零元"), ("20000.5", "两万元五角"),
    ("1,234.56".replace(",", ""), "一千二百三十四元五角六分"), ("99.999", "一百元整"),
])
def test_amounts(value: str, reading: str) -> None:
    assert text(spoken.amount(Decimal(value), "cmn")) == reading


def test_cantonese_amounts_say_loeng_not_ji() -> None:
    """兩蚊, not 二蚊: the same fragments, read from the Cantonese catalog text."""
    yue = {**CMN, "say.liang": "兩", "say.yuan": "蚊", "say.jiao": "毫"}
    assert "".join(yue[f] for f in spoken.amount("2", "yue")) == "兩蚊整"
    assert "".join(yue[f] for f in spoken.amount("2.2", "yue")) == "兩蚊兩毫"


def test_digit_strings_read_one_as_yao_in_mandarin_only() -> None:
    assert text(spoken.digit_string("2021", "cmn")) == "二零二幺"
    assert spoken.digit_string("1", "yue") == ["say.d1"]


def test_dates() -> None:
    assert text(spoken.calendar_date(date(2026, 11, 23), "cmn")) == "二零二六年十一月二十三日"
    assert text(spoken.calendar_date(date(2027, 1, 1), "cmn")) == "二零二七年一月一日"


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        spoken.number(-1)
    with pytest.raises(ValueError):
        spoken.digit_string("12a", "cmn")


def test_every_fragment_is_in_the_catalog_for_mandarin_and_cantonese() -> None:
    from pathlib import Path

    import yaml

    from ivr.catalog import Catalog

    root = Path(__file__).resolve().parents[2]
    catalog = Catalog.model_validate(yaml.safe_load(
        (root / "prompts" / "catalog.yaml").read_text(encoding="utf-8")))
    samples = [spoken.number(n) for n in (0, 12, 200, 10050, 200000000)]
    samples += [spoken.amount("1234.56", "cmn"), spoken.amount("1200", "cmn"),
                spoken.calendar_date(date(2026, 11, 23), "cmn")]
    for language in ("cmn", "yue"):
        used = {f for sample in samples for f in sample}
        used |= set(spoken.digit_string("0123456789", language))
        missing = [f for f in sorted(used) if language not in catalog.prompts[f].text]
        assert not missing, (language, missing)
    assert "yue" not in catalog.prompts["say.yao"].text  # 幺 is Mandarin only
