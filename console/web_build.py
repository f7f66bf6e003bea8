"""The console's third-party browser code: JsSIP (the desk's WebRTC phone) and Apache
ECharts (the KPI charts), pinned in console/web/package-lock.json and bundled with esbuild
(also pinned) into console/static/vendor/ by `hotline console build-web` (make's web
target). Nothing is fetched at run time; the bundles are not committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

WEB_DIR = Path(__file__).with_name("web")
VENDOR = Path(__file__).with_name("static") / "vendor"
# entry point in console/web -> the bundle the pages load
BUNDLES = {"phone.js": VENDOR / "jssip.min.js", "charts.js": VENDOR / "echarts.min.js"}
NPM_TIMEOUT_S = 600


class WebBuildError(RuntimeError):
    pass


def bundles_are_current() -> bool:
    lock = (WEB_DIR / "package-lock.json").stat().st_mtime
    return all(bundle.is_file() and bundle.stat().st_mtime >= max(
        lock, (WEB_DIR / entry).stat().st_mtime) for entry, bundle in BUNDLES.items())


def build_web(npm: str | None = None) -> list[Path]:
    """Install the pinned packages (`npm ci`) and bundle them; returns the bundles."""
    npm = npm or shutil.which("npm")
    if npm is None:
        raise WebBuildError("npm is not installed (Debian: apt-get install npm)")
    try:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=WEB_DIR, check=True, timeout=NPM_TIMEOUT_S)
        VENDOR.mkdir(parents=True, exist_ok=True)
        for entry, bundle in BUNDLES.items():
            subprocess.run([str(WEB_DIR / "node_modules" / ".bin" / "esbuild"), entry,
                            "--bundle", "--format=iife", "--minify", "--legal-comments=eof",
                            f"--outfile={bundle}"], cwd=WEB_DIR, check=True,
                           timeout=NPM_TIMEOUT_S)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise WebBuildError(f"building the console's browser code failed: {exc}") from exc
    return list(BUNDLES.values())
