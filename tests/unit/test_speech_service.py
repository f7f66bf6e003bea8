"""The model registry, the speech service and its client, and the AGI listener, with fake
recognisers (real Vosk runs in the integration tier)."""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import time
import wave
import zipfile
from pathlib import Path

import pytest

from agi.speech_listener import AgiListener, has_speech
from ivr.menu_schema import SpeechSettings
from ivr.ports import SpeechUnavailable
from speech.client import SpeechClient
from speech.models import (
    ModelError,
    Registry,
    RegistryError,
    State,
    check_model,
    fetch_model,
    load_registry,
    read_lock,
    read_vocabulary,
)
from speech.recogniser import Audio, Decoding, Recognition
from speech.service import LanguageModels, SpeechService, start_server
from tests.support import free_port


def wav_bytes(samples: list[int], rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()


def tone(ms: int, amplitude: int = 6000) -> list[int]:
    return [amplitude if (i // 8) % 2 else -amplitude for i in range(ms * 8)]


# -- registry ---------------------------------------------------------------------------------

def write_model(folder: Path) -> None:
    for part in ("am/final.mdl", "conf/model.conf", "graph/Gr.fst", "graph/HCLr.fst"):
        (folder / part).parent.mkdir(parents=True, exist_ok=True)
        (folder / part).write_bytes(part.encode())


def registry_with(archive_sha256: str | None, **entry: object) -> Registry:
    return Registry.model_validate({
        "base_url": "file:///nowhere",
        "models": {"m": {"archive": "m.zip", "archive_sha256": archive_sha256,
                         "grammar": True, **entry}},
        "languages": {"ko": ["m"]}})


def test_registry_errors_name_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "models.yaml"
    file.write_text("base_url: x\nmodels:\n  m:\n    grammar: true\nlanguages:\n  ko: [m]\n")
    with pytest.raises(RegistryError) as caught:
        load_registry(file)
    assert "exactly one source" in str(caught.value)
    assert caught.value.problems[0].line == 3


def test_fetch_verifies_the_archive_and_records_the_tree(tmp_path: Path) -> None:
    source = tmp_path / "src" / "m"
    write_model(source)
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in source.rglob("*"):
            bundle.write(file, file.relative_to(source.parent))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    models = tmp_path / "models"
    base = f"file://{tmp_path}"
    with pytest.raises(ModelError, match="does not match"):
        fetch_model(registry_with("0" * 64), "m", models, base_url=base)
    with pytest.raises(ModelError, match="no lock file"):
        fetch_model(registry_with(None), "m", models, base_url=base)
    status = fetch_model(registry_with(digest), "m", models, base_url=base).status
    assert status.state is State.READY
    (models / "m" / "am" / "final.mdl").write_bytes(b"tampered")
    assert check_model(models, "m", registry_with(digest).models["m"]).state is State.CORRUPT
    (models / "m" / "graph" / "HCLr.fst").unlink()
    corrupt = check_model(models, "m", registry_with(digest).models["m"])
    assert corrupt.state is State.CORRUPT and "HCLr.fst" in corrupt.detail
    assert check_model(tmp_path, "absent", registry_with(digest).models["m"]).state \
        is State.MISSING


def test_an_unpinned_model_is_pinned_on_first_use_and_held_to_it(tmp_path: Path) -> None:
    source = tmp_path / "src" / "m"
    write_model(source)
    archive = tmp_path / "m.zip"

    def pack(extra: bytes = b"") -> None:
        with zipfile.ZipFile(archive, "w") as bundle:
            for file in sorted(source.rglob("*")):
                bundle.write(file, file.relative_to(source.parent))
            if extra:
                bundle.writestr("m/README", extra)

    pack()
    lock = tmp_path / "models.lock"
    models, base = tmp_path / "models", f"file://{tmp_path}"
    first = fetch_model(registry_with(None), "m", models, lock=lock, base_url=base)
    assert first.pinned and first.status.state is State.READY
    pinned = read_lock(lock)["m"]
    assert pinned.archive_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert pinned.size_bytes == archive.stat().st_size and pinned.source.endswith("/m.zip")
    again = fetch_model(registry_with(None), "m", models, lock=lock, base_url=base)
    assert not again.pinned and again.status.state is State.READY
    pack(b"a different file under the same name")
    with pytest.raises(ModelError, match="changed since it was pinned"):
        fetch_model(registry_with(None), "m", models, lock=lock, base_url=base)
    assert read_lock(lock)["m"] == pinned  # the pin never moves by itself


def test_fetch_refuses_archives_escaping_the_models_folder(tmp_path: Path) -> None:
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../../evil", b"x")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(ModelError, match="outside"):
        fetch_model(registry_with(digest), "m", tmp_path / "models",
                    base_url=f"file://{tmp_path}")


def fst_with_symbols(words: list[str]) -> bytes:
    def text(value: str) -> bytes:
        data = value.encode()
        return struct.pack("<i", len(data)) + data

    def table() -> bytes:
        body = struct.pack("<i", 2125658996) + text("words.txt") + struct.pack("<q", len(words))
        body += struct.pack("<q", len(words))
        for index, word in enumerate(words):
            body += text(word) + struct.pack("<q", index)
        return body

    header = struct.pack("<i", 2125659606) + text("ngram") + text("standard")
    header += struct.pack("<ii", 4, 3) + struct.pack("<Qqqq", 0, 1, 10, 0)
    return header + table() + table()


def test_vocabulary_comes_from_the_grammar_fst_when_there_is_no_words_file(
        tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "Gr.fst").write_bytes(
        fst_with_symbols(["<eps>", "!SIL", "민원", "넷", "#0", "<s>", "</s>"]))
    vocabulary = read_vocabulary(tmp_path, "ko")
    assert vocabulary.words == frozenset({"!SIL", "민원", "넷"})
    assert not vocabulary.has_unknown_word
    (tmp_path / "graph" / "words.txt").write_text("<eps> 0\n挂失 1\n[unk] 2\n")
    assert read_vocabulary(tmp_path, "cmn").words == frozenset({"挂失", "[unk]"})


# -- service ----------------------------------------------------------------------------------

class FakeEngine:
    def __init__(self, name: str, text: str, confidence: float,
                 gate: threading.Event | None = None) -> None:
        self.name = name
        self.text = text
        self.confidence = confidence
        self.gate = gate
        self.entered = threading.Event()

    def recognise(self, audio: Audio, phrases: list[str]) -> Recognition:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        return Recognition(self.text, self.confidence, tuple(self.text.split()), 1)

    def start(self, rate_hz: int, phrases: list[str]) -> Decoding | None:
        raise AssertionError("the request service never streams")


@pytest.fixture
def utterance(tmp_path: Path) -> Path:
    file = tmp_path / "u.wav"
    file.write_bytes(wav_bytes(tone(500)))
    return file


def test_the_best_understanding_language_wins(utterance: Path) -> None:
    service = SpeechService({"cmn": LanguageModels([FakeEngine("cn", "我 要 挂失", 0.55)]),
                             "yue": LanguageModels([FakeEngine("yue", "我 要 挂失", 0.82)])})
    reply = service.recognise({"audio": str(utterance), "languages": ["cmn", "yue"],
                               "phrases": []})
    assert reply["ok"] and reply["language"] == "yue" and reply["audio_ms"] == 500


def test_requests_are_refused_rather_than_queued_when_workers_are_busy(
        utterance: Path) -> None:
    gate = threading.Event()
    slow = FakeEngine("ko", "넷", 1.0, gate)
    service = SpeechService({"ko": LanguageModels([slow])}, workers=1, queue_wait_s=0.05)
    request = {"audio": str(utterance), "languages": ["ko"], "phrases": ["넷"]}
    first = threading.Thread(target=service.recognise, args=(request,))
    first.start()
    assert slow.entered.wait(5)
    assert service.recognise(request)["error"] == "overloaded"
    gate.set()
    first.join(5)
    assert service.recognise(request)["ok"]


def test_the_client_turns_every_failure_into_speech_unavailable(utterance: Path,
                                                                 tmp_path: Path) -> None:
    with pytest.raises(SpeechUnavailable):
        SpeechClient("127.0.0.1", free_port()).ready_languages()
    service = SpeechService({"ko": LanguageModels([FakeEngine("ko", "넷", 0.9)]),
                             "cmn": LanguageModels(problems=["missing"])})
    server = start_server(service, "127.0.0.1", 0)
    try:
        client = SpeechClient("127.0.0.1", server.server_address[1])
        assert client.ready_languages() == {"ko"}
        assert client.recognise(utterance, ["ko"], ["넷"]).text == "넷"
        with pytest.raises(SpeechUnavailable, match="unavailable"):
            client.recognise(utterance, ["cmn"], [])
        with pytest.raises(SpeechUnavailable, match="bad-audio"):
            client.recognise(tmp_path / "none.wav", ["ko"], [])
    finally:
        server.shutdown()
        server.server_close()


def test_a_stream_is_opened_with_its_complete_pause_and_a_bad_one_refused() -> None:
    service = SpeechService({"ko": LanguageModels([FakeEngine("ko", "넷", 0.9)])},
                            audiosocket_port=4575)
    request = {"languages": ["ko"], "phrases": ["넷"], "prompts": [], "timeout_ms": 5000,
               "max_answer_ms": 8000}
    opened = service.open_stream({**request, "complete_ms": 300})
    assert opened["ok"]
    session = service.streams.claim(opened["uuid"])
    assert session is not None and session.complete_ms == 300
    for bad in (-1, "300", 60_000, 1.5):
        assert service.open_stream({**request, "complete_ms": bad})["error"] == "bad-request"


# -- AGI listener -----------------------------------------------------------------------------

def test_speech_is_told_from_silence_and_clicks(tmp_path: Path) -> None:
    cases = {"silence": [0] * 8000, "click": [0] * 4000 + tone(60) + [0] * 4000,
             "voice": [0] * 4000 + tone(400) + [0] * 4000}
    found = {}
    for name, samples in cases.items():
        (tmp_path / f"{name}.wav").write_bytes(wav_bytes(samples))
        found[name] = has_speech(tmp_path / f"{name}.wav")
    assert found == {"silence": False, "click": False, "voice": True}


class RecordingChannel:
    """Writes what the caller 'said' where RECORD FILE would, or ends with a key."""

    call_id = "1796313116.0"  # Asterisk's uniqueid form: the dot is part of it

    def __init__(self, takes: list[list[int] | str]) -> None:
        self.takes = takes
        self.commands: list[tuple[str, int, int, str, bool]] = []

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        self.commands.append((file_stem, max_duration_ms, silence_s, escape_keys, beep))
        take = self.takes.pop(0)
        if isinstance(take, str):
            return take
        time.sleep(0.01)  # a real RECORD FILE lasts at least its pause
        Path(file_stem + ".wav").write_bytes(wav_bytes(take))
        return None


class FakeClient:
    def __init__(self, ready: set[str], text: str = "넷") -> None:
        self.ready = ready
        self.text = text
        self.heard: list[Path] = []

    def ready_languages(self) -> set[str]:
        return self.ready

    def recognise(self, audio: Path, languages: list[str], phrases: list[str]):  # type: ignore[no-untyped-def]
        from speech.client import Result

        self.heard.append(audio)
        assert audio.is_file()
        return Result(self.text, 0.9, languages[0], 5)


def listener(tmp_path: Path, channel: RecordingChannel, client: FakeClient) -> AgiListener:
    return AgiListener(channel, client, tmp_path, SpeechSettings.model_validate({}))  # type: ignore[arg-type]


def test_a_spoken_answer_is_recognised_and_its_file_removed(tmp_path: Path) -> None:
    channel = RecordingChannel([tone(600)])
    client = FakeClient({"ko"})
    heard = listener(tmp_path, channel, client).listen(["ko"], ["넷"], 5000)
    assert heard is not None and (heard.text, heard.language) == ("넷", "ko")
    assert channel.commands[0][2:] == (2, "0123456789*#", False)  # pause ends it, keys live
    assert not client.heard[0].exists()
    assert client.heard[0].name == "1796313116.0-1.wav"


def test_a_key_while_listening_answers_at_once(tmp_path: Path) -> None:
    heard = listener(tmp_path, RecordingChannel(["4"]), FakeClient({"ko"})).listen(
        ["ko"], ["넷"], 5000)
    assert heard is not None and heard.key == "4"


def test_silence_is_no_input(tmp_path: Path) -> None:
    channel = RecordingChannel([[0] * 100])
    assert listener(tmp_path, channel, FakeClient({"ko"})).listen(["ko"], ["넷"], 5) is None


def test_no_model_means_keys_before_the_caller_is_asked_to_speak(tmp_path: Path) -> None:
    channel = RecordingChannel([])
    with pytest.raises(SpeechUnavailable) as caught:
        listener(tmp_path, channel, FakeClient({"cmn"})).listen(["ko"], ["넷"], 5000)
    assert not caught.value.heard_audio and channel.commands == []
