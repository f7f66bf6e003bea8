"""The SIP benchmark's own parts: the SIPp scenario it writes, the speech it sends as RTP,
the callers' turns planned from the transcripts, and how a call's record is judged."""

from __future__ import annotations

import audioop
import struct
import wave
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.lines import VOICE_KEYS, mix
from bench.sip_caller import (
    KEYS_ACT,
    SILENCE_BEFORE_MS,
    TONE_MS,
    keys_play_ms,
    scenario_xml,
    words_end_ms,
    write_rtp_pcap,
)
from bench.sip_load import judge
from bench.sip_plans import SipPlan, keys_of, plan_and_outcome, plan_transcript, sip_plans
from db.models import Call
from ivr.menu_loader import load_menus
from ivr.transcripts import load_transcript

ROOT = Path(__file__).resolve().parents[2]


def test_the_scenario_is_xml_sipp_can_load_with_every_act_branch(tmp_path: Path) -> None:
    pcap = tmp_path / "word.pcap"
    pcap.write_bytes(b"")
    text = scenario_xml([(pcap, 1000)])
    root = ET.fromstring(text.split("\n", 2)[2])  # after the XML and DOCTYPE lines
    labels = {label.get("id") for label in root.iter("label")}
    assert {"listen", "press", "say0", "caller-hangs-up", "hotline-hung-up", "end"} <= labels
    jumps = {nop.get("next") for nop in root.iter("nop") if nop.get("next")}
    assert jumps <= labels  # every jump lands
    assert f'play_dtmf="[$keys],{TONE_MS}"' in text and f'value="{KEYS_ACT}"' in text
    # The offer names telephone-event as 96: the payload type SIPp's play_dtmf sends.
    assert "m=audio [auto_media_port] RTP/AVP 0 96" in text
    assert "a=rtpmap:96 telephone-event/8000" in text
    # The first twin command is a sendCmd: SIPp connects to the director, which listens.
    first = next(e for e in root if e.tag in ("sendCmd", "recvCmd"))
    assert first.tag == "sendCmd" and "Plan: [field0]" in (first.text or "")


def test_pressing_takes_the_time_sipp_needs_for_it() -> None:
    assert keys_play_ms("1") == 100 + 4 * TONE_MS
    assert keys_play_ms("1234") - keys_play_ms("123") == 2 * TONE_MS


TONE = b"".join(struct.pack("<h", 8000 if (n // 20) % 2 else -8000) for n in range(4000))


def write_wav(file: Path, pcm: bytes) -> None:
    with wave.open(str(file), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(pcm)


def test_the_words_end_where_the_voice_does_not_where_the_file_does(tmp_path: Path) -> None:
    wav = tmp_path / "word.wav"
    write_wav(wav, bytes(1600) + TONE + bytes(4800))  # 100 ms, the word's 500, 300 ms
    assert words_end_ms(wav) == 600


def test_speech_becomes_20_ms_pcmu_packets_with_silence_around_it(tmp_path: Path) -> None:
    wav = tmp_path / "word.wav"
    write_wav(wav, TONE)  # 0.5 s
    pcap = tmp_path / "word.pcap"
    length_ms = write_rtp_pcap(wav, pcap, silence_after_ms=1000)
    assert length_ms == SILENCE_BEFORE_MS + 500 + 1000
    data = pcap.read_bytes()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4
    offset, payload, times, sequence = 24, b"", [], []
    while offset < len(data):
        seconds, micros, length, _orig = struct.unpack("<IIII", data[offset:offset + 16])
        packet = data[offset + 16:offset + 16 + length]
        offset += 16 + length
        rtp = packet[14 + 20 + 8:]
        assert rtp[1] & 0x7F == 0  # PCMU
        sequence.append(struct.unpack("!H", rtp[2:4])[0])
        times.append(seconds + micros / 1e6)
        payload += rtp[12:]
    assert len(times) == length_ms // 20 and sequence == list(range(len(sequence)))
    assert all(abs(b - a - 0.02) < 1e-6 for a, b in zip(times, times[1:], strict=False))
    decoded = audioop.ulaw2lin(payload, 2)
    start = SILENCE_BEFORE_MS * 16
    assert audioop.rms(decoded[:start], 2) == 0
    assert audioop.rms(decoded[start:start + 8000], 2) > 6000  # the word survives
    assert audioop.rms(decoded[start + 8000:], 2) == 0


def test_turns_follow_the_transcripts_and_keys_come_when_the_hotline_waits() -> None:
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    planned = sip_plans(menus, stream_prompt_ms=2400)
    plans = {plan.key: plan for plan in planned}
    assert set(plans) >= {"loan-account-entry", "overdue-customer-collections", "vip-priority"}
    lost_card = plans["lost-card-mandarin"]
    assert lost_card.turns == ("1", "1")
    assert (lost_card.outcome, lost_card.queue) == ("queue", "cards-priority")
    # A number is one turn, typed in one go (the hotline reads its first key, then the rest
    # with GET DATA), ended by '#' as the transcript's caller does (not left to the pause).
    assert plans["loan-account-entry"].turns == ("1", "3", "1", "6200000000001#", "135790",
                                                 "2")
    silent = plans["silent-caller-gets-an-agent"]
    assert silent.turns and set(silent.turns) == {None}  # a silence for every wait
    words = {("say=caller/minwon",), ("say=caller/net",), ("say=caller/sangdamwon",)}
    assert {p.turns for p in planned if p.key == "speech-ko"} == words
    streamed = [p for p in planned if p.key == "speech-ko-stream"]
    assert {p.turns for p in streamed} == words
    # The streaming line plays its menu inside the wait: its callers let it end first.
    assert {p.prompt_ms for p in streamed} == {2400}
    assert {p.prompt_ms for p in planned if p.key != "speech-ko-stream"} == {0}
    everyone = planned
    assert all(p.key not in VOICE_KEYS for p in mix(everyone, 20, speech_every=0))
    voiced = [p.key for p in mix(everyone, 24, speech_every=4)]
    assert (voiced.count("speech-ko"), voiced.count("speech-ko-stream")) == (3, 3)


def test_a_caller_who_knows_the_menus_presses_over_the_prompt_that_offers_the_choice() -> None:
    """The tests' callers barge in (shorter calls): each turn names the prompt it presses
    over, the one after which the transcript has heard what it expects; the turns stay the
    same, a number still typed in one go."""
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    transcript = load_transcript(ROOT / "menus" / "transcripts" / "loan-account-entry.yaml")
    listening = plan_transcript(menus, "loan-account-entry", transcript)
    barging = plan_transcript(menus, "loan-account-entry", transcript, barging=True)
    assert barging.turns == listening.turns and listening.barge_at == ()
    assert barging.barge_at[:4] == ("/cmn/lang/choose_cmn", "/cmn/main/menu",
                                    "/cmn/loans/menu", "/cmn/loans/enter_account")


def test_a_message_is_one_turn_of_words_ended_with_the_hash_key() -> None:
    """A caller who leaves a message speaks it at the recording's wait and ends it with # (a
    `Local/` caller who stops talking sends no audio to end it by silence); the keys the
    hotline hears leave the words out."""
    menus = load_menus(ROOT / "menus", ROOT / "prompts" / "catalog.yaml").menus
    assert menus is not None
    transcript = load_transcript(ROOT / "menus" / "transcripts" / "complaint-with-callback.yaml")
    plan, outcome = plan_and_outcome(menus, "complaint", transcript, barging=True,
                                     message_sound="cmn/complaints/intro")
    assert plan.turns == ("1", "5", "2", "say=cmn/complaints/intro&#", "1", "1")
    assert len(plan.barge_at) == len(plan.turns)
    assert keys_of(plan) == "152#11"
    assert (outcome.kind.value, outcome.intent) == ("hangup", "complaint-fees")
    with pytest.raises(ValueError, match="message_sound"):
        plan_transcript(menus, "complaint", transcript)


def _record(**fields: object) -> Call:
    return Call(call_id="c1", ended_at=datetime(2026, 12, 3, tzinfo=UTC), **fields)


def test_a_call_fails_only_when_its_record_says_the_hotline_got_it_wrong() -> None:
    plan = SipPlan("t", "139", ("1",), "queue", "cards")
    assert judge(plan, _record(outcome="queue", queue="cards"), caller_gave_up=False) is None
    # A caller who waited in the queue until their patience ran out was still routed right.
    assert judge(plan, _record(outcome="queue", queue="cards"), caller_gave_up=True) is None
    assert judge(plan, None, False) == "no call record"
    assert judge(plan, Call(call_id="c1"), False) == "record never ended"
    assert judge(plan, _record(outcome="queue", queue="cards", failure="agi-FAILURE"),
                 False) == "failure path: agi-FAILURE"
    assert judge(plan, _record(outcome="queue", queue="general", reason="agent-key"),
                 False) == "ended queue/general (agent-key) not queue/cards"
    goodbye = SipPlan("t", "139", ("1",), "hangup", "")
    assert judge(goodbye, _record(outcome="hangup"), caller_gave_up=True) == \
        "caller gave up waiting"
