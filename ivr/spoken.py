"""Numbers, amounts, dates and digit strings as sequences of pre-rendered fragments (no TTS
per call), with Mandarin and Cantonese reading rules:

- 万/亿 grouping: 12,345,678 → 一千二百三十四万五千六百七十八;
- 零 for any run of zeros inside a number, never at its end: 1005 → 一千零五, 10050 → 一万零五十;
- a leading 10-19 is 十… (十二), inside a number it is 一十… (一百一十);
- 2 is 两 (兩) before 百/千/万/亿, as a count (两位, 两天) and as an amount (两元, 两角; Cantonese
  兩蚊, 兩毫), and 二 inside numbers and in dates (二十, 十二, 二月);
- digit strings (ticket numbers, card last four) digit by digit, where Mandarin reads 1 as 幺;
- amounts as 元/角/分 (整 when whole), dates as 年 (digit by digit) 月 日 (Cantonese 號).

Each fragment is a catalog prompt id (`say.*`), so the same ids work in every language.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ivr.catalog import Catalog

DIGITS = [f"say.d{d}" for d in range(10)]
TWO_BEFORE_UNIT = "say.liang"  # 两 / 兩
ONE_IN_DIGIT_STRINGS = "say.yao"  # 幺, Mandarin only
UNITS = {1: "say.ten", 2: "say.hundred", 3: "say.thousand"}
GROUPS = {1: "say.wan", 2: "say.yi"}  # 万, 亿 (亿 groups repeat beyond 10^12: 万亿)
# What a language needs in the catalog to read figures (幺 is optional: Mandarin only).
REQUIRED_FRAGMENTS = frozenset([*DIGITS, TWO_BEFORE_UNIT, *UNITS.values(), *GROUPS.values(),
                                "say.yuan", "say.jiao", "say.fen", "say.zheng", "say.year",
                                "say.month", "say.day"])


def figure_languages(catalog: Catalog) -> frozenset[str]:
    """Languages the catalog has every number fragment for."""
    return frozenset(language for language in catalog.languages
                     if all(f in catalog.prompts and language in catalog.prompts[f].text
                            for f in REQUIRED_FRAGMENTS))


def digit_languages(catalog: Catalog) -> frozenset[str]:
    """Languages the catalog can read digit strings in (phone numbers read back)."""
    return frozenset(language for language in catalog.languages
                     if all(f in catalog.prompts and language in catalog.prompts[f].text
                            for f in DIGITS))


def value_fragments(how: str, value: str, language: str) -> list[str]:
    """A customer attribute or slot value read as `how` (amount, number, date, digits).
    Raises ValueError when the value cannot be read that way."""
    if how == "amount":
        return amount(value, language)
    if how == "number":
        return number(int(value))
    if how == "date":
        return calendar_date(date.fromisoformat(value), language)
    if how == "digits":
        return digit_string(value, language)
    raise ValueError(f"unknown reading {how!r}")


def integer(number: int) -> list[str]:
    """A non-negative integer as fragments."""
    if number < 0:
        raise ValueError("negative numbers are not spoken here")
    if number == 0:
        return [DIGITS[0]]
    groups: list[int] = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    out: list[str] = []
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out.append(DIGITS[0])
        out += _group(group, leading=not out)
        if index:
            out.append(_group_unit(index))
        need_zero = False
    return out


def _group_unit(index: int) -> str:
    # 10^4 → 万, 10^8 → 亿, 10^12 → 万亿
    return GROUPS[1] if index % 2 == 1 else GROUPS[2]


def _group(value: int, *, leading: bool) -> list[str]:
    """0 < value < 10000. `leading`: this group starts the whole number."""
    digits = [value // 1000, value // 100 % 10, value // 10 % 10, value % 10]
    out: list[str] = []
    zero_pending = False
    started = False
    for position, digit in enumerate(digits):
        power = 3 - position
        if digit == 0:
            zero_pending = started
            continue
        if zero_pending:
            out.append(DIGITS[0])
            zero_pending = False
        if power == 1 and digit == 1 and leading and not started:
            out.append(UNITS[1])  # 十二, not 一十二, at the very start
        elif power >= 2 and digit == 2 and leading and not started:
            out += [TWO_BEFORE_UNIT, UNITS[power]]  # 两百, 两千 to start a number
        elif power >= 1:
            out += [DIGITS[digit], UNITS[power]]
        else:
            out.append(DIGITS[digit])
        started = True
    return out


def amount(value: Decimal | str | float, language: str) -> list[str]:
    """Money in 元: 1234.56 → 一千二百三十四元五角六分; 1200 → 一千二百元整."""
    try:
        cents = int((Decimal(str(value)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    except ArithmeticError as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if cents < 0:
        raise ValueError("negative amounts are not spoken here")
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    out: list[str] = []
    if yuan:
        out += _count(yuan) + ["say.yuan"]
    if not jiao and not fen:
        return out + ["say.zheng"] if out else [DIGITS[0], "say.yuan"]
    if jiao:
        out += _count(jiao) + ["say.jiao"]
    elif yuan:
        out.append(DIGITS[0])  # 五元零六分
    if fen:
        out += [DIGITS[fen], "say.fen"]
    return out


def _with_liang_before_wan(number: int) -> list[str]:
    """Whole groups of exactly 2 before 万/亿 read 两 (两万, 两亿), as do 2 before 百/千."""
    out = integer(number)
    fixed = []
    for index, fragment in enumerate(out):
        nxt = out[index + 1] if index + 1 < len(out) else ""
        if fragment == DIGITS[2] and nxt in GROUPS.values() and (
                index == 0 or out[index - 1] in GROUPS.values()):
            fixed.append(TWO_BEFORE_UNIT)
        else:
            fixed.append(fragment)
    return fixed


def number(value: int) -> list[str]:
    """A count or quantity (days overdue, callers ahead): 两 before 万/亿 too."""
    return _count(value)


def _count(value: int) -> list[str]:
    """A quantity before a measure word or unit: exactly 2 is 两 (两位, 两元, 兩蚊)."""
    return [TWO_BEFORE_UNIT] if value == 2 else _with_liang_before_wan(value)


def digit_string(digits: str, language: str) -> list[str]:
    """Ticket numbers, card last four, phone numbers: one fragment per digit."""
    if not digits.isdigit():
        raise ValueError("only digits can be read digit by digit")
    one = ONE_IN_DIGIT_STRINGS if language == "cmn" else DIGITS[1]
    return [one if d == "1" else DIGITS[int(d)] for d in digits]


def calendar_date(day: date, language: str) -> list[str]:
    """2026-11-23 → 二零二六年十一月二十三日 (Cantonese: …二十三號)."""
    year = [DIGITS[int(d)] for d in str(day.year)]  # years read digit by digit, 1 as 一
    return [*year, "say.year", *integer(day.month), "say.month", *integer(day.day),
            "say.day"]
