"""Screenshots of the console made by the browser tests. By default they go to the test's
temporary folder (and are checked as pictures); `make screenshots` sets HOTLINE_SCREENSHOTS to
docs/screenshots, where the README shows them, so the pictures are what the tests saw."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS_ENV = "HOTLINE_SCREENSHOTS"
MIN_SIDE_PX = 600  # a page, not a blank strip


def save_screenshot(page: Page, name: str, fallback_dir: Path, *,
                    full_page: bool = False) -> Path:
    """Saves `<name>.png` and checks it is a PNG of a whole page."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or fallback_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    shot = page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and shot[12:16] == b"IHDR", f"{name}: not a PNG"
    width, height = struct.unpack(">II", shot[16:24])
    assert min(width, height) >= MIN_SIDE_PX, f"{name}: only {width}x{height} px"
    return path
