"""The console's languages: gettext catalogs (console/locale/<lang>/LC_MESSAGES/messages.po,
compiled in memory when first used), Simplified Chinese by default, English per user.

The message ids are the English text, so English needs no catalog. The language of the page
being rendered is a context variable set per request: Jinja2's i18n extension and Python code
(`gettext`) both read it. Dates, times and numbers are formatted by Babel in that locale.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT = "zh_CN"
LANGUAGES = {"zh_CN": "简体中文", "en": "English"}  # code -> its own name, for the picker
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

_current: ContextVar[str] = ContextVar("console_language", default=DEFAULT)


def known(language: str | None) -> str:
    """A language the console speaks: `language` if it is one, else the default."""
    return language if language in LANGUAGES else DEFAULT


@cache
def translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Render (or answer) in `language` for the duration of the block."""
    token = _current.set(known(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


@dataclass(frozen=True)
class Phrase:
    """Words for a page, translated when it is rendered: `text` (a message id marked with
    N_) and its %-parameters."""

    text: str
    params: dict[str, object] = field(default_factory=dict)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    return message


def _locale() -> Locale:
    return Locale.parse(current())


def moment(value: datetime | None) -> str:
    """A date and time (already in the line's time zone) as this locale writes it."""
    return format_datetime(value, "medium", locale=_locale()) if value else ""


def day(value: date | None) -> str:
    return format_date(value, "medium", locale=_locale()) if value else ""


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


def percent(value: float | None) -> str:
    return "-" if value is None else format_percent(value, "#,##0.0%", locale=_locale())


class PageFormats:
    """The KPI report's labels and figures in the page's language (db.kpis.Formats), the
    agents' dispositions by their labels."""

    def __init__(self, disposition_labels: Mapping[str, str] | None = None) -> None:
        self.disposition_labels = disposition_labels or {}

    def label(self, text: str, **params: object) -> str:
        return gettext(text).format(**params)

    def count(self, value: int) -> str:
        return number(value)

    def percent(self, value: float | None) -> str:
        return percent(value)

    def seconds(self, value: float | None) -> str:
        return "-" if value is None else gettext(N_("{seconds} s")).format(
            seconds=number(value, 1))

    def disposition(self, code: str) -> str:
        return self.disposition_labels.get(code, code)


# Codes the pages show (statuses, outcomes, roles, reasons, categories): stored as codes,
# shown in words. Marked here so that the catalogs carry them.
CODE_WORDS = (
    N_("new"), N_("assigned"), N_("replied"), N_("resolved"), N_("closed"),
    N_("reply"), N_("resolution"), N_("open"), N_("done"),
    N_("queue"), N_("hangup"), N_("failed"), N_("hung-up"),
    N_("ready"), N_("paused"), N_("wrap-up"), N_("break"), N_("training"),
    N_("after-call-work"), N_("supervisor"), N_("qa"), N_("admin"), N_("agent"),
    N_("listen"), N_("whisper"), N_("barge"),
    N_("complaint-service"), N_("complaint-fees"), N_("complaint-collections"),
    N_("complaint-other"), N_("service"), N_("collections"), N_("complaint"),
    N_("complaint-ticket"), N_("card-frozen"), N_("promise-to-pay"),
)
