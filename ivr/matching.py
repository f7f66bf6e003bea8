"""Matching caller input: spoken phrases against a menu's phrases, and digit-string checks
(bank-card Luhn, resident-ID checksum, mobile numbers).

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import re
import unicodedata

_IGNORED = re.compile(r"[\s\u3000，。！？、,.!?;；:：'\"“”‘’]+")


def normalise_phrase(text: str) -> str:
    """Comparable form of a phrase: full-width folded, case-folded, no spaces or punctuation
    (Vosk puts spaces between Chinese words; callers do not pause where operators typed)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _IGNORED.sub("", folded)


def phrase_matches(heard: str, phrase: str) -> bool:
    """The caller said the phrase, alone or inside a longer utterance ("我要挂失" ~ "挂失")."""
    wanted = normalise_phrase(phrase)
    return bool(wanted) and wanted in normalise_phrase(heard)


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
          "cn_mobile": cn_mobile_ok}
