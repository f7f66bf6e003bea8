"""Callers' phone numbers, checked with phonenumbers: Chinese mobile (11 digits) or fixed-line
numbers (area code with its 0), in the form the line dials them.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import phonenumbers

REGION = "CN"


def dialable(digits: str) -> str | None:
    """A valid Chinese mobile (11 digits) or fixed-line number (area code with its 0) as
    the line dials it; None for anything else."""
    if not digits.isdigit():
        return None
    try:
        parsed = phonenumbers.parse(digits, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(parsed, REGION):
        return None
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(c for c in national if c.isdigit())
