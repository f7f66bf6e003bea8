# ruff: noqa: F811 - `world` is test_console's fixture, taken by name
"""The console's languages: complete catalogs, no untranslated words in the templates, the
language kept per user and per browser, QA checklist and KPI names in both languages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from console import i18n
from console.i18n_catalog import extract, read, untranslated
from console.qa import load_checklist
from db.kpis import Kpis, KpiSettings
from db.models import ConsoleUser
from tests.unit.test_console import START, csrf_of, sign_in, world  # noqa: F401 - fixture

pytestmark = pytest.mark.unit

TEMPLATES = Path(i18n.__file__).with_name("templates")
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")
WORD = re.compile(r"[A-Za-z\u4e00-\u9fff]")
# Attributes a person reads (the rest are names, ids and values the code uses).
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}


@pytest.mark.parametrize("language", [code for code in i18n.LANGUAGES if code != "en"])
def test_every_message_the_sources_use_is_translated(language: str) -> None:
    template, catalog = extract(), read(language)
    assert untranslated(catalog, template) == []
    for message in catalog:
        if message.id and isinstance(message.id, str):
            assert set(PLACEHOLDER.findall(message.id)) == set(
                PLACEHOLDER.findall(str(message.string))), message.id


class _Words(HTMLParser):
    """Text a person reads in a template once its Jinja2 parts are taken out."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")
        self.found += [v for k, v in attrs if k in READ_ATTRIBUTES and v and WORD.search(v)]

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and WORD.search(data):
            self.found.append(data.strip())


def literal_words(source: str) -> list[str]:
    """Words outside {{ }}, {% %} and {# #}: they would be shown untranslated."""
    tokens = Environment(extensions=["jinja2.ext.i18n"]).lex(source)
    markup = "".join(value if kind == "data" else "" for _, kind, value in tokens)
    parser = _Words()
    parser.feed(markup)
    return parser.found


def test_literal_words_are_found_where_they_hide() -> None:
    assert literal_words('<p>Sign in</p><b title="Hold">{{ _("x") }}</b>') == ["Sign in",
                                                                               "Hold"]
    assert literal_words('<p>{{ _("Sign in") }}</p><script>var a = "x";</script>') == []


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_show_no_words_outside_the_catalogs(name: str) -> None:
    assert literal_words((TEMPLATES / name).read_text()) == []


def test_the_console_speaks_chinese_until_a_user_picks_english(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    assert '<html lang="zh-CN">' in client.get("/login").text and "登录" in client.get(
        "/login").text
    english = client.get("/login", params={"lang": "en"})
    assert "Sign in" in english.text and "hotline_language=en" in english.headers["set-cookie"]
    assert "Sign in" in client.get("/login").text  # the browser keeps the choice
    sign_in(client, "sup1")
    assert "录音" in client.get("/recordings").text  # the user's own language: the default
    answer = client.post("/language", data={"csrf": csrf_of(client, "/recordings"),
                                            "language": "en", "back": "/complaints"},
                         follow_redirects=False)
    assert answer.headers["location"] == "/complaints"
    page = client.get("/complaints").text
    assert '<html lang="en">' in page and "Complaint tickets" in page
    engine: Engine = world["engine"]  # type: ignore[assignment]
    with Session(engine) as session:
        assert session.get(ConsoleUser, "sup1").language == "en"  # type: ignore[union-attr]


@pytest.mark.parametrize("back", ["//attacker.example/x", "https://attacker.example",
                                  "/\\attacker", "javascript:alert(1)"])
def test_the_language_form_sends_nobody_to_another_site(world: dict[str, object],
                                                        back: str) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "sup1")
    answer = client.post("/language", data={"csrf": csrf_of(client, "/recordings"),
                                            "language": "en", "back": back},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_a_language_the_console_does_not_speak_is_refused(
        world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    sign_in(client, "sup1")
    answer = client.post("/language", data={"csrf": csrf_of(client, "/recordings"),
                                            "language": "../../etc"})
    assert answer.status_code == 400


def test_the_qa_checklist_reads_in_both_languages() -> None:
    checklist = load_checklist()
    for item in checklist.items:
        assert re.search(r"[\u4e00-\u9fff]", item.text_in("zh_CN"))
        assert re.search(r"[A-Za-z]", item.text_in("en"))


def test_kpi_names_and_figures_follow_the_page_language() -> None:
    kpis = Kpis(START, START, KpiSettings(), calls=12345, contained=6172)
    with i18n.speaking("zh_CN"):
        chinese = dict(kpis.rows(i18n.PageFormats()))
    with i18n.speaking("en"):
        english = dict(kpis.rows(i18n.PageFormats()))
    assert chinese["通话量"] == "12,345" and chinese["IVR 自助解决率"] == "50.0%"
    assert chinese["服务水平（20 秒）"] == "-"
    assert english["calls"] == "12,345" and english["service level (20 s)"] == "-"
    assert english["satisfaction"] == "- (goal 90.0%, 0 surveys)"
