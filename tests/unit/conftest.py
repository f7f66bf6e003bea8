"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db import migrate
from db.database import make_engine
from ivr.menu_loader import MenuSet, load_menus

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def menus() -> MenuSet:
    """The shipped menus and prompt catalog (they must be valid)."""
    result = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml")
    assert result.menus is not None, [p.render() for p in result.problems]
    return result.menus


@pytest.fixture
def records_url(tmp_path: Path) -> str:
    """A call-records database of the test's own: a SQLite file at the newest schema."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def engine(records_url: str) -> Iterator[Engine]:
    engine = make_engine(records_url)
    yield engine
    engine.dispose()
