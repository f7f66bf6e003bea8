"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.menu_loader import MenuSet, load_menus

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def menus() -> MenuSet:
    """The shipped menus and prompt catalog (they must be valid)."""
    result = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml")
    assert result.menus is not None, [p.render() for p in result.problems]
    return result.menus
