"""Menu files: the shipped menus are valid, and every mistake in a broken set is reported at
once with file, line, node and a fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ivr.menu_loader import load_menus
from ivr.problems import Problem, Severity, errors
from ivr.schemas import SCHEMAS, json_schema

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "prompts" / "catalog.yaml"
BROKEN = Path(__file__).parent / "broken_menus"


def problems_in(menus_dir: Path) -> list[Problem]:
    result = load_menus(menus_dir, CATALOG)
    assert result.menus is None, "a set with errors must not load"
    return result.problems


def test_shipped_menus_are_valid() -> None:
    result = load_menus(ROOT / "menus", CATALOG)
    assert result.menus is not None, [p.render() for p in result.problems]
    assert errors(result.problems) == []
    assert set(result.menus.line.languages) >= {"cmn", "yue"}


@pytest.mark.parametrize(("line", "node", "words"), [
    (5, "menu", "unknown prompt 'main.menuu'"),
    (6, "menu", "timeout: Extra inputs"),
    (9, "menu", "target 'nowhere'"),
    (9, "menu", "key '1' is used twice"),
    (11, "menu", "phrase '挂 失' is used twice"),
    (14, "cards", "unknown queue 'card'"),
    (16, "spin", "loop without caller input: spin → spin.again → spin"),
    (23, "orphan", "unreachable"),
    (28, "hours", "business hours 'office' are not defined"),
    (31, "typo.kind", "Input tag 'menus'"),
    (37, "wrong.exits", "'menu' is a menu node, not a callback node"),
    (38, "wrong.exits", "'spin.again' is a play node, not a menu node"),
])
def test_each_mistake_is_reported_with_its_line(line: int, node: str, words: str) -> None:
    found = [p for p in problems_in(BROKEN)
             if p.file.name == "many-errors.yaml" and p.line == line and p.node == node
             and words in p.message]
    assert found, [p.render() for p in problems_in(BROKEN)]
    assert all(p.fix for p in found)


def test_fixes_suggest_the_likely_name() -> None:
    rendered = [p.render(BROKEN) for p in problems_in(BROKEN)]
    assert any("did you mean 'main.menu'?" in r for r in rendered)
    assert any("did you mean 'timeout_ms'?" in r for r in rendered)
    assert any(r.startswith("many-errors.yaml:9: error: node 'menu':") for r in rendered)


def test_recorded_queue_without_disclosure_is_an_error() -> None:
    found = [p for p in problems_in(BROKEN) if "recording disclosure" in p.message]
    assert [p.node for p in found] == ["agent"]
    assert "start → menu → agent" in found[0].message or "start" in found[0].message


def copy_menus(tmp_path: Path) -> Path:
    target = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", target, ignore=shutil.ignore_patterns("transcripts"))
    return target


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file.name}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_skippable_disclosure_is_an_error(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "welcome.yaml", "interruptible: false", "interruptible: true")
    found = problems_in(menus)
    assert any("can skip the recording disclosure" in p.message and p.node == "welcome.start"
               for p in found)


def test_missing_prompt_language_is_reported(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    catalog = tmp_path / "catalog.yaml"
    text = CATALOG.read_text(encoding="utf-8")
    catalog.write_text(text.replace("      yue: 你好，歡迎致電信用卡同普惠金融服務熱線。\n", ""),
                       encoding="utf-8")
    result = load_menus(menus, catalog)
    assert result.menus is None
    assert any("welcome.greeting' has no text for yue" in p.message and p.line == 7
               for p in result.problems)


def test_duplicate_yaml_keys_are_not_silently_dropped(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "cards.yaml", "  cards.general:\n", "  cards.repayment:\n")
    found = problems_in(menus)
    assert any("appears twice" in p.message and p.file.name == "cards.yaml" for p in found)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "    back_key: \"*\"", "    back_key: *")
    found = problems_in(menus)
    assert any(p.file.name == "loans.yaml" and "YAML syntax" in p.message and p.line == 8
               and "quoted" in p.fix for p in found)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_committed_json_schemas_are_current_and_pointed_at(kind: str) -> None:
    _model, _title, path, files = SCHEMAS[kind]
    committed = (ROOT / path).read_text(encoding="utf-8")
    assert committed == json_schema(kind), f"run `hotline schema {kind} --write`"
    assert json.loads(committed)["additionalProperties"] is False
    # Every operator file of that kind names it for the editor.
    folder = (ROOT / path).parent
    for file in sorted(folder.glob(files)):
        first = file.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={Path(path).name}", file


def test_committed_menu_schema_forbids_unknown_keys() -> None:
    schema = json.loads((ROOT / "menus" / "menu.schema.json").read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False
    kinds = {d["properties"]["kind"]["const"] for name, d in schema["$defs"].items()
             if name.endswith("Node")}
    assert {"menu", "collect", "queue", "record", "callback", "lookup", "condition"} <= kinds


def test_a_file_with_broken_yaml_does_not_flood_the_others_with_errors(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "    back_key: \"*\"", "    back_key: *")
    assert [p.file.name for p in problems_in(menus)] == ["loans.yaml"]


def test_figures_need_fragments_or_a_fallback_in_every_language(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "    fallback_prompt: loans.figures_by_agent", "")
    found = [p for p in problems_in(menus) if p.node == "loans.good_standing"]
    assert any("cannot read figures in en" in p.message for p in found)


def test_a_balance_read_before_verification_is_rejected_naming_the_path(
        tmp_path: Path) -> None:
    """The attack: the lookup by caller ID goes straight to the balance, so whoever holds
    the phone hears it."""
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "    found: loans.verify\n    not_found: loans.account",
         "    found: loans.good_standing\n    not_found: loans.account")
    found = [p for p in problems_in(menus) if "not been verified" in p.message]
    assert [p.node for p in found] == ["loans.good_standing"]
    assert "main.menu → loans.menu → loans.lookup → loans.good_standing" in found[0].message
    assert found[0].severity is Severity.ERROR


def test_the_overdue_branch_before_verification_is_rejected(tmp_path: Path) -> None:
    """Where the caller goes next tells them the account is overdue: the condition itself."""
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "    found: loans.verify\n    not_found: loans.account",
         "    found: loans.status\n    not_found: loans.account")
    found = [p.node for p in problems_in(menus) if "not been verified" in p.message]
    assert found == ["loans.status"]


def test_a_collections_disclosure_anywhere_unverified_is_rejected(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "goto: collections.plan,\n         intent: repayment-plan}",
         "goto: collections.disclosed,\n         intent: repayment-plan}")
    found = [p.node for p in problems_in(menus) if "not been verified" in p.message]
    assert found == ["collections.disclosed"]


def test_a_verified_caller_back_from_a_queue_is_unverified_again(tmp_path: Path) -> None:
    """A caller who presses * in a queue starts a new IVR session: nobody is verified."""
    menus = copy_menus(tmp_path)
    edit(menus / "loans.yaml", "    intent: repayment-plan\n    prompt: sys.transfer_agent\n"
         "    leave_to: main.menu", "    intent: repayment-plan\n    prompt: "
         "sys.transfer_agent\n    leave_to: loans.status")
    found = [p.node for p in problems_in(menus) if "not been verified" in p.message]
    assert found == ["loans.status"]


def test_routing_by_vip_needs_no_verification(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "welcome.yaml", "      - when: {open: service}\n",
         "      - when: {customer: {vip: true}}\n        goto: main.menu\n"
         "      - when: {open: service}\n")
    result = load_menus(menus, CATALOG)
    assert result.menus is not None, [p.render() for p in errors(result.problems)]


def test_a_queue_with_a_time_limit_and_no_no_agent_menu_is_flagged(tmp_path: Path) -> None:
    """Nobody is hung up: without line.no_agent they wait on in the fallback queue, and the
    operator is told that no callback or message is offered."""
    menus = copy_menus(tmp_path)
    edit(menus / "line.yaml", "  no_agent: noagent.menu\n", "")
    result = load_menus(menus, CATALOG)
    warned = [p for p in result.problems if "no `no_agent` node" in p.message]
    # Only the no-agent nodes, now unreachable, are errors.
    assert {p.node for p in errors(result.problems)} == {
        "noagent.menu", "noagent.callback", "noagent.message", "noagent.thanks"}
    assert {p.node for p in warned} >= {"agent.general", "cards.general"}
    assert "cards.lost_agent" not in {p.node for p in warned}  # max_wait_s: 0
    assert all(p.severity is Severity.WARNING for p in warned)


def test_the_no_agent_node_must_be_a_menu_or_a_callback(tmp_path: Path) -> None:
    menus = copy_menus(tmp_path)
    edit(menus / "line.yaml", "  no_agent: noagent.menu\n", "  no_agent: noagent.thanks\n")
    found = [p for p in problems_in(menus) if "line.no_agent" in p.message]
    assert found and "hangup node" in found[0].message


def test_account_details_on_the_no_agent_menu_are_rejected(tmp_path: Path) -> None:
    """A caller back from a queue no agent took starts a new session: the no-agent menu
    must not tell the account, even to a caller verified before queueing."""
    menus = copy_menus(tmp_path)
    edit(menus / "services.yaml", "      - {key: 2, phrases: [留言], goto: noagent.message}",
         "      - {key: 2, phrases: [留言], goto: noagent.message}\n"
         "      - {key: 3, goto: cards.statement}")
    found = [p for p in problems_in(menus) if "not been verified" in p.message]
    assert [p.node for p in found] == ["cards.statement"]
    assert "no agent in time → noagent.menu → cards.statement" not in found[0].message
    assert "noagent.menu → cards.statement" in found[0].message
