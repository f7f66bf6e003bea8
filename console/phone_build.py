"""The browser phone's one third-party file: JsSIP, pinned in console/phone/package-lock.json,
bundled with esbuild (also pinned) into console/static/vendor/jssip.min.js by
`hotline console install-phone` (make's browser target). Nothing is fetched at run time."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PHONE_DIR = Path(__file__).with_name("phone")
BUNDLE = Path(__file__).with_name("static") / "vendor" / "jssip.min.js"
NPM_TIMEOUT_S = 600


class PhoneBuildError(RuntimeError):
    pass


def bundle_is_current() -> bool:
    lock = PHONE_DIR / "package-lock.json"
    return BUNDLE.is_file() and BUNDLE.stat().st_mtime >= max(
        lock.stat().st_mtime, (PHONE_DIR / "entry.js").stat().st_mtime)


def build_phone(npm: str | None = None) -> Path:
    """Install the pinned packages (`npm ci`) and bundle them; returns the bundle's path."""
    npm = npm or shutil.which("npm")
    if npm is None:
        raise PhoneBuildError("npm is not installed (Debian: apt-get install npm)")
    try:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=PHONE_DIR, check=True, timeout=NPM_TIMEOUT_S)
        BUNDLE.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(PHONE_DIR / "node_modules" / ".bin" / "esbuild"), "entry.js",
                        "--bundle", "--format=iife", "--minify", "--legal-comments=eof",
                        f"--outfile={BUNDLE}"], cwd=PHONE_DIR, check=True,
                       timeout=NPM_TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise PhoneBuildError(f"building the browser phone failed: {exc}") from exc
    return BUNDLE
