"""Hostile and careless YAML in every operator file: refused with file:line and a fix, in
bounded time and memory; the live menu watcher survives it and loads the next valid edit.

Attacks reproduced: a 480-byte alias bomb took 1.4 GB and never finished validating (in the
live folder: the FastAGI server at 2.8 GB, calls 20x slower, the watcher dead); binary junk
or a NUL byte gave a traceback and killed the watcher for good; a 50 MB file never
answered."""

from __future__ import annotations

import resource
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agi.menu_store import MenuStore
from ivr.agents import load_agents
from ivr.menu_loader import load_menus
from ivr.yamlsource import MAX_YAML_BYTES, read_yaml
from runtime.settings import Settings
from services.composition import deployable
from speech.models import RegistryError, load_registry

ROOT = Path(__file__).resolve().parents[2]
# "Billion laughs": nine levels of nine aliases, 342 bytes, 9^9 values once expanded.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True))
HOSTILE = {
    "alias bomb": BOMB.encode(),
    "recursive alias": b"a: &a [*a]\n",
    "NUL byte": b"line:\n  name: x\x00y\n",
    "binary junk": bytes(range(256)) * 8,
    "not UTF-8": "line: {name: 热线}\n".encode("gb18030"),
    "deep nesting": b"[" * 50_000 + b"]" * 50_000,
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_file_is_refused_quickly_with_its_line(tmp_path: Path, name: str) -> None:
    file = tmp_path / "menu.yaml"
    file.write_bytes(HOSTILE[name])
    before = peak_rss_mb()
    started = time.monotonic()
    source = read_yaml(file)
    assert time.monotonic() - started < 5
    assert peak_rss_mb() - before < 100  # the bomb alone took 1.4 GB
    assert source.problems and source.data == {}
    assert all(p.line >= 1 and p.fix for p in source.problems)


def test_an_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    file = tmp_path / "huge.yaml"
    with file.open("wb") as out:
        out.truncate(50 * 1024 * 1024)  # 50 MB (sparse: nothing to read)
    started = time.monotonic()
    source = read_yaml(file)
    assert time.monotonic() - started < 1
    assert f"limited to {MAX_YAML_BYTES} bytes" in source.problems[0].message


@pytest.mark.parametrize("kind", ["menus", "catalog", "lexicon", "agents", "models"])
def test_each_operator_file_refuses_the_bomb(tmp_path: Path, kind: str) -> None:
    menus, prompts = tmp_path / "menus", tmp_path / "prompts"
    shutil.copytree(ROOT / "menus", menus)
    shutil.copytree(ROOT / "prompts", prompts, ignore=shutil.ignore_patterns("recorded"))
    target = {"menus": menus / "line.yaml", "catalog": prompts / "catalog.yaml",
              "lexicon": prompts / "lexicon.yaml", "agents": tmp_path / "agents.yaml",
              "models": tmp_path / "models.yaml"}[kind]
    target.write_text(BOMB, encoding="utf-8")
    if kind == "agents":
        loaded, problems = load_agents(target)
        assert loaded is None and "aliases expand" in problems[0].message
    elif kind == "models":
        with pytest.raises(RegistryError, match="aliases expand"):
            load_registry(target)
    else:
        result = load_menus(menus, prompts / "catalog.yaml")
        assert result.menus is None
        assert any("aliases expand" in p.message and p.file == target
                   for p in result.problems), [p.render() for p in result.problems]


def test_the_live_watcher_survives_junk_and_loads_the_next_valid_edit(tmp_path: Path) -> None:
    menus = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", menus)
    store = MenuStore(menus, ROOT / "prompts" / "catalog.yaml")
    assert store.reload().applied
    first = store.current()
    assert first is not None
    store.watch(interval_s=0.05)
    try:
        for junk in (HOSTILE["binary junk"], HOSTILE["NUL byte"], BOMB.encode()):
            (menus / "zz-dropped.yaml").write_bytes(junk)
            wait_until(lambda: not store.changed())
            assert store.current() is first  # calls keep the menus they had
        (menus / "zz-dropped.yaml").unlink()
        line = menus / "line.yaml"
        renamed = line.read_text(encoding="utf-8").replace(
            "name: 信用卡与普惠金融服务热线", "name: 信用卡与普惠金融服务热线（新）")
        line.write_text(renamed, encoding="utf-8")
        wait_until(lambda: (store.current() or first).version != first.version)
        current = store.current()
        assert current is not None and current.line.name.endswith("（新）")
    finally:
        store.stop_watching()


def wait_until(condition: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    pytest.fail("the watcher did not get there")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_any_bytes_give_problems_or_data_never_an_exception(tmp_path: Path, data: bytes) -> None:
    file = tmp_path / "any.yaml"
    file.write_bytes(data)
    source = read_yaml(file)  # raising here would kill the watcher or a validate run
    assert all(problem.line >= 1 and problem.fix for problem in source.problems)
    if source.problems:
        assert source.data == {}


def test_a_valid_edit_the_hotline_cannot_serve_is_refused_live(tmp_path: Path) -> None:
    """Careless edit: a live reload accepted menus whose prompts were not rendered or whose
    new queue Asterisk did not have; every such call then took the failure path."""
    menus = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", menus)
    lacking: list[str] = []
    store = MenuStore(menus, ROOT / "prompts" / "catalog.yaml", deployable=lambda _m: lacking)
    assert store.reload().applied
    first = store.current()
    lacking.append("the running Asterisk has no queue fraud-cmn: run `hotline asterisk up`")
    (menus / "line.yaml").write_text((menus / "line.yaml").read_text(encoding="utf-8")
                                     + "\n# edited\n", encoding="utf-8")
    result = store.reload()
    assert not result.applied and store.current() is first
    assert any("fraud-cmn" in p for p in result.problems)


def test_deployable_names_unrendered_prompts_and_missing_queues(tmp_path: Path) -> None:
    loaded = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert loaded is not None
    settings = Settings(project_dir=ROOT, runtime_dir=tmp_path, asterisk_root=tmp_path)
    etc = settings.asterisk_dir / "etc"
    etc.mkdir(parents=True)
    (etc / "queues-menus.conf").write_text("[general-cmn](hotline-queue)\n")
    problems = deployable(settings)(loaded)
    assert any("no audio in cmn" in p and "hotline prompts build" in p for p in problems)
    assert any("no queue" in p and "cards-cmn" in p for p in problems)
