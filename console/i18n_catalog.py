"""The console's message catalogs: what the templates and the console's Python code ask to
be translated (Babel's extractors), and the .po files that answer it.

`hotline console translations` brings console/locale/*/messages.po up to date with the
sources (new ids come in untranslated, translations of gone ids are dropped) and lists the
ids that still lack a translation; the unit tests fail while any does.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from console.i18n import LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# Every file a page's words come from: the templates, the console's code, the KPI labels.
SOURCES = (("console/templates", "*.html", "jinja2"), ("console", "*.py", "python"),
           ("db", "kpis.py", "python"))


def source_files() -> list[tuple[Path, str]]:
    return [(path, method) for folder, pattern, method in SOURCES
            for path in sorted((ROOT / folder).glob(pattern))]


def extract() -> Catalog:
    """The message ids the sources use, with where each is used."""
    catalog = Catalog(project="hotline-console", charset="utf-8")
    for path, method in source_files():
        for line, message, comments, context in extract_from_file(
                method, path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
                strip_comment_tags=True):
            catalog.add(message, locations=[(str(path.relative_to(ROOT)), line)],
                        auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as source:
        return read_po(source, locale=language)


def untranslated(catalog: Catalog, template: Catalog) -> list[str]:
    """Ids the sources use that `catalog` does not translate."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = found.string if found is not None else None
        if isinstance(strings, tuple | list):
            ok = all(strings)
        else:
            ok = bool(strings)
        if not ok or (found is not None and found.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update() -> dict[str, list[str]]:
    """Bring every catalog up to date with the sources; returns each language's gaps."""
    template = extract()
    gaps = {}
    for language in LANGUAGES:
        if language == "en":  # the message ids are the English text
            continue
        path = po_path(language)
        catalog = read(language) if path.is_file() else Catalog(locale=language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, sort_output=True, omit_header=False)
        gaps[language] = untranslated(catalog, template)
    return gaps
