"""The SIP benchmark's callers: one SIPp scenario (Debian's `sip-tester`) that calls the
hotline's trunk with RTP audio, and does what it is told per call over SIPp's 3PCC twin
socket — press keys (RFC 4733 events SIPp makes, a fresh RTP stream per press so that each
counts), say a word (recorded speech as an RTP pcap), hang up. The benchmark's director
(bench.director, over bench.sip_twin) tells it when the hotline waits for the caller, as a
person acts once a prompt has ended.

Twin commands (ours → SIPp), one per action, answered by `Done` once it is played:

    Call-ID: <SIPp call id>\r\nAct: <number>\r\nKeys: <keys>\r\nPlayMs: <ms>\r\n\r\n<ESC>

Acts: 1 press `Keys` (taking `PlayMs`), 20+i say the i-th sound, 99 hang up.
"""

from __future__ import annotations

import audioop
import struct
import wave
from pathlib import Path
from xml.sax.saxutils import escape

from speech.levels import FRAME_BYTES, is_loud

KEYS_ACT = 1
SOUND_ACTS = 20
HANG_UP_ACT = 99
# Each key's tone, and the gap after it. SIPp's play_dtmf also waits two tone lengths
# before the first key: its default of 200 ms would make a caller press ~0.7 s after deciding,
# too late for a short wait (the 1.5 s to change a preferred language).
TONE_MS = 100
RTP_PAYLOAD_PCMU = 0
# Asterisk learns a new RTP source from its first packets (strict RTP) and drops those:
# the caller's line carries a little silence before the words.
SILENCE_BEFORE_MS = 500


def keys_play_ms(keys: str) -> int:
    """How long SIPp takes to press `keys` (warm-up packets and the wait before the first
    key, then tone and gap each)."""
    return 100 + 2 * TONE_MS * (len(keys) + 1)


def words_end_ms(wav_file: Path) -> int:
    """Where the last voiced 20 ms frame of a recorded answer ends (its words, not the
    silence the renderer leaves after them)."""
    with wave.open(str(wav_file), "rb") as source:
        pcm = source.readframes(source.getnframes())
    frames = [pcm[at:at + FRAME_BYTES] for at in range(0, len(pcm), FRAME_BYTES)]
    voiced = [n for n, chunk in enumerate(frames) if is_loud(chunk)]
    return (voiced[-1] + 1) * 20 if voiced else 0


def write_rtp_pcap(wav_file: Path, pcap_file: Path, silence_after_ms: int = 3000) -> int:
    """An 8 kHz 16-bit mono WAV as a pcap of 20 ms PCMU RTP packets (what SIPp's
    play_pcap_audio sends, its addresses and ports replaced by the call's), then
    `silence_after_ms` of silence: a phone line carries on after the words, and the hotline
    hears the answer end by that pause. Its length in ms."""
    with wave.open(str(wav_file), "rb") as source:
        if (source.getframerate(), source.getsampwidth(), source.getnchannels()) != (8000, 2, 1):
            raise ValueError(f"{wav_file}: not 8 kHz 16-bit mono")
        pcm = source.readframes(source.getnframes())
    payload = b"\xff" * 8 * SILENCE_BEFORE_MS + audioop.lin2ulaw(pcm, 2) + \
        b"\xff" * (8 * silence_after_ms)
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    frame = 160  # 20 ms
    for index, start in enumerate(range(0, len(payload), frame)):
        chunk = payload[start:start + frame].ljust(frame, b"\xff")  # 0xff: u-law silence
        rtp = struct.pack("!BBHII", 0x80, RTP_PAYLOAD_PCMU | (0x80 if index == 0 else 0),
                          index & 0xFFFF, (index * frame) & 0xFFFFFFFF, 0x5EED) + chunk
        udp = struct.pack("!HHHH", 40000, 40000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), index & 0xFFFF, 0, 64, 17,
                         0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
        ether = b"\x00" * 12 + b"\x08\x00" + ip
        at_us = index * 20_000
        out += struct.pack("<IIII", at_us // 1_000_000, at_us % 1_000_000, len(ether),
                           len(ether)) + ether
    pcap_file.write_bytes(bytes(out))
    return len(payload) // 8


def _done(label: str) -> str:
    return f"""  <sendCmd><![CDATA[
Call-ID: [call_id]
Done: {label}

]]></sendCmd>
  <nop next="listen"/>
"""


def _in_dialog(method: str, cseq: int, retrans: bool = False) -> str:
    """A request inside the call's dialog (the ACK, the caller's BYE)."""
    resend = ' retrans="500"' if retrans else ""
    return f"""  <send{resend}>
    <![CDATA[
{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:hotline@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Max-Forwards: 70
Content-Length: 0
    ]]>
  </send>"""


def scenario_xml(sounds: list[tuple[Path, int]]) -> str:
    """The caller's scenario; `sounds`: (RTP pcap, length ms) the caller can say, in act
    order from SOUND_ACTS. Injection fields: 0 the plan's index, 1 the caller's number,
    2 the AGI address the hotline serves the call from (the benchmark's transcript route)."""
    says = [(f"say{n}", SOUND_ACTS + n, pcap, length_ms + 200)
            for n, (pcap, length_ms) in enumerate(sounds)]
    tests = "".join(f'\n      <test assign_to="is_{label}" variable="act" compare="equal" '
                    f'value="{number}"/>' for label, number, _p, _ms in says)
    jumps = "".join(f'\n  <nop next="{label}" test="is_{label}"/>'
                    for label, _n, _p, _ms in says)
    branches = "".join(f"""
  <label id="{label}"/>
  <nop><action><exec play_pcap_audio="{escape(str(pcap))}"/></action></nop>
  <pause milliseconds="{ms}"/>
{_done(label)}""" for label, _n, pcap, ms in says)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- GENERATED by bench/sip_caller.py: a hotline caller told what to do over 3PCC. -->
<scenario name="hotline caller">
  <send retrans="500" start_rtd="setup">
    <![CDATA[
INVITE sip:hotline@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]-[call_number]
To: <sip:hotline@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[field1]@[local_ip]:[local_port]>
Max-Forwards: 70
X-Bench-Plan: [field0]
X-Bench-Agi: [field2]
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [auto_media_port] RTP/AVP 0 96
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=ptime:20
a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="setup" rrs="true"/>
{_in_dialog("ACK", 1)}
  <sendCmd><![CDATA[
Call-ID: [call_id]
Done: answered
Plan: [field0]

]]></sendCmd>

  <label id="listen"/>
  <recv request="BYE" optional="true" next="hotline-hung-up"/>
  <recvCmd>
    <action>
      <ereg regexp="Act: ([0-9]+)" search_in="msg" check_it="true" assign_to="whole,act_text"/>
      <ereg regexp="Keys: ([0-9*#]+)" search_in="msg" assign_to="keys_line,keys"/>
      <ereg regexp="PlayMs: ([0-9]+)" search_in="msg" assign_to="ms_line,play_ms_text"/>
      <!-- SIPp refuses a variable it never reads -->
      <log message="[$whole] [$keys_line] [$ms_line]"/>
      <todouble assign_to="act" variable="act_text"/>
      <test assign_to="is_keys" variable="act" compare="equal" value="{KEYS_ACT}"/>
      <test assign_to="is_hangup" variable="act" compare="equal" value="{HANG_UP_ACT}"/>{tests}
    </action>
  </recvCmd>
  <nop next="press" test="is_keys"/>{jumps}
  <nop next="caller-hangs-up" test="is_hangup"/>
  <nop next="listen"/>

  <label id="press"/>
  <!-- play_dtmf sends its events as payload type 96, hence 96 in the offer above -->
  <nop><action><exec play_dtmf="[$keys],{TONE_MS}"/>
    <todouble assign_to="play_ms" variable="play_ms_text"/></action></nop>
  <pause variable="play_ms"/>
{_done("keys")}{branches}
  <label id="caller-hangs-up"/>
{_in_dialog("BYE", 2, retrans=True)}
  <recv response="200" next="end"/>

  <label id="hotline-hung-up"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
    ]]>
  </send>
  <label id="end"/>
  <sendCmd><![CDATA[
Call-ID: [call_id]
Done: ended

]]></sendCmd>
</scenario>
"""
