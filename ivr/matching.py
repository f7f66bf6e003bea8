"""Matching caller input: spoken phrases against a menu's phrases, and digit-string checks
(bank-card Luhn, resident-ID checksum, mobile numbers).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import re
import unicodedata

from opencc import OpenCC

_IGNORED = re.compile(r"[\s\u3000，。！？、,.!?;；:：'\"“”‘’]+")
# Said just before a phrase, these turn it round: 我不要挂失 is not a lost card. Written in
# simplified characters (text is folded to simplified first); Cantonese ones included.
NEGATIONS = ("不要", "不是", "不用", "不想", "不需要", "没有", "没", "别", "不", "唔要", "唔系",
             "唔使", "唔想", "唔", "冇", "未")
NEGATION_REACH = 2  # characters that may stand between a negation and its phrase
_TO_SIMPLIFIED = OpenCC("t2s")


def normalise_phrase(text: str) -> str:
    """Comparable form of a phrase: full-width folded, case-folded, traditional characters
    as simplified (Vosk's Chinese models answer in simplified; Cantonese callers' phrases are
    often written in traditional), no spaces or punctuation (Vosk puts spaces between
    Chinese words; callers do not pause where operators typed)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _IGNORED.sub("", _TO_SIMPLIFIED.convert(folded))


def phrase_matches(heard: str, phrase: str) -> bool:
    """The caller said the phrase, alone or inside a longer utterance ("我要挂失" ~ "挂失"),
    and did not say it negated ("我不要挂失", "唔係掛失")."""
    wanted = normalise_phrase(phrase)
    said = normalise_phrase(heard)
    if not wanted:
        return False
    start = said.find(wanted)
    while start >= 0:
        if not _negated(said[:start]):
            return True
        start = said.find(wanted, start + 1)
    return False


def _negated(before: str) -> bool:
    """A negation ends the text before the phrase: right before it, or (for the two-character
    ones, 不要/没有/唔係 …) with a word or two between (我不要再挂失)."""
    for gap in range(NEGATION_REACH + 1):
        head = before[:len(before) - gap]
        if any(head.endswith(n) for n in NEGATIONS if gap == 0 or len(n) > 1):
            return True
    return False


CARD_MIN_DIGITS = 12


def luhn_ok(digits: str) -> bool:
    """A card number: long enough, and its Luhn check digit right."""
    return len(digits) >= CARD_MIN_DIGITS and luhn_valid(digits)


def luhn_valid(digits: str) -> bool:
    """The last digit is the Luhn check digit of the others (cards, complaint tickets)."""
    return (len(digits) >= 2 and digits.isdigit()
            and luhn_check_digit(digits[:-1]) == digits[-1])


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body` + digit pass Luhn: every second digit from the right of
    the finished number is doubled."""
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:  # doubled once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_ok(text: str) -> bool:
    """GB 11643 resident ID: 17 digits and a check character. On a phone keypad the final X
    is entered as '*'."""
    text = text.upper().replace("*", "X")
    if len(text) != 18 or not text[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17]


def cn_mobile_ok(digits: str) -> bool:
    return re.fullmatch(r"1[3-9]\d{9}", digits) is not None


CHECKS = {"none": lambda _digits: True, "luhn": luhn_ok, "cn_id": cn_id_ok,
          "cn_mobile": cn_mobile_ok, "ticket": luhn_valid}
