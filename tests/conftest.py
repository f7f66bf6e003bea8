"""Test tiers. Every test gets the marker of the folder it lives in, so that `-m unit`,
`-m contract` and `-m integration` each select exactly one tier; browser tests are also
marked `browser`. A test file outside the three tier folders is an error, not a silent skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "contract", "integration")
BROWSER_MODULES = ("test_console_browser",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        item.add_marker(getattr(pytest.mark, tier))
        if item.path.stem in BROWSER_MODULES:
            item.add_marker(pytest.mark.browser)


def tier_of(path: Path) -> str:
    relative = path.resolve().relative_to(TESTS)
    tier = relative.parts[0] if len(relative.parts) > 1 else ""
    if tier not in TIERS:
        raise pytest.UsageError(f"{path}: a test must live in tests/unit, tests/contract or "
                                "tests/integration, whose folder gives its tier")
    return tier
