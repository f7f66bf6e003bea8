"""Compliance recordings on disk: MixMonitor's interleaved stereo .raw (caller left, what the
caller hears right; 8 kHz signed 16-bit) becomes a WAV beside it, written to a temporary
name, synced and renamed, so a crash or a full disk never leaves a half file under the
final name and never loses the raw audio. Optionally encrypted at rest (AES-256-GCM in
chunks; the key lives in the runtime folder's secrets, never in the database).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SAMPLE_RATE = 8000
CHANNELS = 2
SAMPLE_WIDTH = 2
FRAME_BYTES = CHANNELS * SAMPLE_WIDTH
CHUNK = 64 * 1024
ENCRYPTED_SUFFIX = ".enc"
_MAGIC = b"HLREC1"
_NONCE_PREFIX = 8  # + 4-byte chunk counter = 12-byte GCM nonce


@dataclass(frozen=True)
class StoredAudio:
    path: Path
    size_bytes: int
    duration_ms: int
    sha256: str
    encrypted: bool


class AudioCipher:
    """AES-256-GCM over 64 KiB chunks, each authenticated with its index (no chunk can be
    dropped, reordered or altered unnoticed)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a recordings key is 32 bytes")
        self._aead = AESGCM(key)

    @staticmethod
    def load_or_create(path: Path) -> AudioCipher:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(AESGCM.generate_key(bit_length=256))
        return AudioCipher(path.read_bytes())

    def encrypt(self, source: io.BufferedReader, target: io.BufferedWriter) -> None:
        prefix = secrets.token_bytes(_NONCE_PREFIX)
        target.write(_MAGIC + prefix)
        index = 0
        while chunk := source.read(CHUNK):
            sealed = self._aead.encrypt(prefix + struct.pack(">I", index), chunk,
                                        _MAGIC + struct.pack(">I", index))
            target.write(struct.pack(">I", len(sealed)) + sealed)
            index += 1

    def decrypt(self, data: bytes) -> bytes:
        if not data.startswith(_MAGIC):
            raise ValueError("not an encrypted recording")
        prefix = data[len(_MAGIC):len(_MAGIC) + _NONCE_PREFIX]
        offset, index, plain = len(_MAGIC) + _NONCE_PREFIX, 0, bytearray()
        while offset < len(data):
            (length,) = struct.unpack(">I", data[offset:offset + 4])
            sealed = data[offset + 4:offset + 4 + length]
            plain += self._aead.decrypt(prefix + struct.pack(">I", index), sealed,
                                        _MAGIC + struct.pack(">I", index))
            offset += 4 + length
            index += 1
        return bytes(plain)


def final_path(raw: Path, cipher: AudioCipher | None) -> Path:
    wav = raw.with_suffix(".wav")
    return wav.with_name(wav.name + ENCRYPTED_SUFFIX) if cipher else wav


def store_raw(raw: Path, cipher: AudioCipher | None = None) -> StoredAudio:
    """Turn a finished MixMonitor .raw into the stored WAV (encrypted with `cipher`), then
    delete the raw file. Raises OSError (disk full, unreadable): the raw file stays."""
    target = final_path(raw, cipher)
    part = target.with_name(target.name + ".part")
    wav_part = part if cipher is None else part.with_name(part.name + ".plain")
    stored = False
    try:
        with raw.open("rb") as source, wave.open(str(wav_part), "wb") as out:
            out.setnchannels(CHANNELS)
            out.setsampwidth(SAMPLE_WIDTH)
            out.setframerate(SAMPLE_RATE)
            carry = b""
            while chunk := source.read(CHUNK):
                data = carry + chunk
                whole = len(data) - len(data) % FRAME_BYTES  # a frame cut short at the end
                out.writeframesraw(data[:whole])
                carry = data[whole:]
        if cipher is not None:
            with wav_part.open("rb") as plain, part.open("wb") as sealed:
                cipher.encrypt(plain, sealed)
        part.chmod(0o600)  # callers' voices: the records service's owner only
        _sync(part)
        os.replace(part, target)
        _sync(target.parent)
        stored = True
    finally:
        # Whatever happened, no temporary file stays; the raw audio goes only once stored.
        for leftover in {part, wav_part}:
            leftover.unlink(missing_ok=True)
    if stored:
        raw.unlink()
    return describe(target, cipher)


def file_digest(path: Path) -> tuple[int, str]:
    """(size, sha256) of a file as stored. Raises OSError."""
    digest = hashlib.sha256()
    with path.open("rb") as stored:
        while chunk := stored.read(CHUNK):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def describe(path: Path, cipher: AudioCipher | None = None) -> StoredAudio:
    """Size, sha256 (of the file as stored) and duration of a stored recording."""
    size, sha256 = file_digest(path)
    return StoredAudio(path=path, size_bytes=size,
                       duration_ms=wav_duration_ms(read_audio(path, cipher)),
                       sha256=sha256, encrypted=path.name.endswith(ENCRYPTED_SUFFIX))


def open_audio(path: Path, cipher: AudioCipher | None = None
               ) -> tuple[int, Callable[[int, int], bytes]]:
    """(length, read(first, last)) of a stored recording's WAV bytes. A plain file is read
    only where asked (a seek in a long call does not read it all); an encrypted one is
    decrypted once."""
    if path.name.endswith(ENCRYPTED_SUFFIX):
        data = read_audio(path, cipher)
        return len(data), lambda first, last: data[first:last + 1]

    def read(first: int, last: int) -> bytes:
        with path.open("rb") as audio:
            audio.seek(first)
            return audio.read(last - first + 1)

    return path.stat().st_size, read


def read_audio(path: Path, cipher: AudioCipher | None = None) -> bytes:
    """The WAV bytes of a stored recording (decrypted when it is encrypted)."""
    data = path.read_bytes()
    if not path.name.endswith(ENCRYPTED_SUFFIX):
        return data
    if cipher is None:
        raise ValueError("the recording is encrypted and no key is configured")
    return cipher.decrypt(data)


class UnreadableAudio(ValueError):
    """A recording file that is not a WAV it can be read as (truncated, junk)."""


def wav_duration_ms(data: bytes) -> int:
    try:
        with wave.open(io.BytesIO(data), "rb") as audio:
            rate = audio.getframerate()
            if rate <= 0:
                raise UnreadableAudio("its WAV header gives no sample rate")
            return audio.getnframes() * 1000 // rate
    except (EOFError, wave.Error, struct.error) as exc:
        raise UnreadableAudio(f"not a readable WAV file ({exc or type(exc).__name__})") from exc


def contained(recordings_dir: Path, path: Path | str) -> Path | None:
    """`path` resolved, when it lies inside the recordings folder (links followed); None
    otherwise. Every command that reads, converts, serves or deletes a recording's file by
    the path a database row holds asks this first: a row is not trusted to stay inside."""
    resolved = Path(path).resolve()
    return resolved if resolved.is_relative_to(recordings_dir.resolve()) else None


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
