"""Prompt audio with the real engine: pyttsx3/espeak-ng rendering, pydub conversion, the
manifest's incremental rebuilds, recorded-voice overrides and the audio sanity checks."""

from __future__ import annotations

from pathlib import Path

from pydub import AudioSegment

from ivr.catalog import Catalog
from speech import prompt_build
from speech.audio import inspect


def catalog(greeting: str = "您好，欢迎致电。") -> Catalog:
    return Catalog.model_validate({
        "languages": {"cmn": "普通话", "yue": "粤语"},
        "voices": {"cmn": {"engine_voice": "sit/cmn"}, "yue": {"engine_voice": "sit/yue"}},
        "prompts": {
            "welcome.greeting": {"text": {"cmn": greeting, "yue": "你好，歡迎致電。"}},
            "sys.agent_offer": {"text": {"cmn": "如需人工服务，请按0。", "yue": "人工服務請按0。"}},
        }})


def test_build_is_incremental_and_playable(tmp_path: Path) -> None:
    out, recorded = tmp_path / "prompts", tmp_path / "recorded"
    first = prompt_build.build(catalog(), ["cmn", "yue"], out, recorded)
    assert not first.problems and len(first.rendered) == 4
    facts = inspect(out / "cmn" / "welcome" / "greeting.wav")
    assert (facts.rate, facts.channels, facts.sample_width) == (8000, 1, 2)
    assert facts.duration_ms > 500 and facts.dbfs > -40

    second = prompt_build.build(catalog(), ["cmn", "yue"], out, recorded)
    assert second.rendered == [] and len(second.unchanged) == 4

    third = prompt_build.build(catalog("您好，欢迎致电热线。"), ["cmn", "yue"], out, recorded)
    assert third.rendered == ["cmn/welcome.greeting"]


def test_recorded_voice_overrides_tts_and_stale_audio_is_reported(tmp_path: Path) -> None:
    out, recorded = tmp_path / "prompts", tmp_path / "recorded"
    prompt_build.build(catalog(), ["cmn"], out, recorded)
    used = {"welcome.greeting", "sys.agent_offer"}
    assert prompt_build.check(catalog(), ["cmn"], used, out, recorded) == []

    human = recorded / "cmn" / "welcome" / "greeting.wav"
    human.parent.mkdir(parents=True)
    tone = AudioSegment.from_wav(str(out / "cmn" / "sys" / "agent_offer.wav"))
    tone.set_frame_rate(44100).export(str(human), format="wav")
    stale = prompt_build.check(catalog(), ["cmn"], used, out, recorded)
    assert [p.key for p in stale] == ["cmn/welcome.greeting"] and "stale" in stale[0].problem

    report = prompt_build.build(catalog(), ["cmn"], out, recorded)
    assert report.recorded == ["cmn/welcome.greeting"] and report.rendered == []
    assert inspect(out / "cmn" / "welcome" / "greeting.wav").rate == 8000
    assert prompt_build.check(catalog(), ["cmn"], used, out, recorded) == []


def test_silent_or_missing_audio_fails_the_check(tmp_path: Path) -> None:
    out, recorded = tmp_path / "prompts", tmp_path / "recorded"
    prompt_build.build(catalog(), ["cmn"], out, recorded)
    target = out / "cmn" / "sys" / "agent_offer.wav"
    AudioSegment.silent(duration=800, frame_rate=8000).export(str(target), format="wav")
    (out / "cmn" / "welcome" / "greeting.wav").unlink()
    problems = {p.key: p.problem for p in prompt_build.check(
        catalog(), ["cmn"], {"welcome.greeting", "sys.agent_offer"}, out, recorded)}
    assert "silent" in problems["cmn/sys.agent_offer"]
    assert "no audio" in problems["cmn/welcome.greeting"]


def test_number_fragments_are_trimmed_to_join_without_gaps(tmp_path: Path) -> None:
    from pydub.silence import detect_leading_silence

    fragments = Catalog.model_validate({
        "languages": {"cmn": "普通话"}, "voices": {"cmn": {"engine_voice": "sit/cmn"}},
        "prompts": {"say.d5": {"text": {"cmn": "五"}}, "plain.five": {"text": {"cmn": "五"}}}})
    out = tmp_path / "prompts"
    assert not prompt_build.build(fragments, ["cmn"], out, tmp_path / "recorded").problems
    trimmed = AudioSegment.from_wav(str(out / "cmn" / "say" / "d5.wav"))
    plain = AudioSegment.from_wav(str(out / "cmn" / "plain" / "five.wav"))
    assert len(trimmed) < len(plain)
    assert detect_leading_silence(trimmed, silence_threshold=-40.0) <= 40


def test_wideband_prompts_are_built_beside_the_telephony_ones(tmp_path: Path) -> None:
    out, recorded = tmp_path / "prompts", tmp_path / "recorded"
    assert not prompt_build.build(catalog(), ["cmn"], out, recorded).problems
    wide = prompt_build.build(catalog(), ["cmn"], out, recorded, rate=16000)
    assert not wide.problems and len(wide.rendered) == 2
    assert inspect(out / "cmn" / "welcome" / "greeting.wav16").rate == 16000
    assert inspect(out / "cmn" / "welcome" / "greeting.wav").rate == 8000
    again = prompt_build.build(catalog(), ["cmn"], out, recorded)
    assert again.rendered == [] and again.removed == []
    assert prompt_build.build(catalog(), ["cmn"], out, recorded, rate=11025).problems
