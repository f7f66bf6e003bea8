"""Files the hotline records through RECORD FILE are found where Asterisk writes them, under
real Asterisk call ids ("<epoch>.<sequence>": the dot must not be taken for an extension)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agi.channel import recorded_file
from agi.hotline_route import ChannelMessageRecorder
from ivr.errors import CallerHungUp, HungUpAfterMessage

ASTERISK_CALL_ID = "1796313116.0"
WAV_HEADER = b"RIFF" + b"\x00" * 40


class MessageChannel:
    """Writes a message of `seconds` where `RECORD FILE <stem> wav` would: `<stem>.wav`."""

    call_id = ASTERISK_CALL_ID

    def __init__(self, seconds: float, hang_up: bool = False) -> None:
        self.seconds = seconds
        self.hang_up = hang_up

    def record(self, file_stem: str, max_duration_ms: int, silence_s: int,
               escape_keys: str = "#", beep: bool = True) -> str | None:
        Path(file_stem + ".wav").write_bytes(WAV_HEADER + b"\x00" * int(16000 * self.seconds))
        if self.hang_up:
            raise CallerHungUp("hung up to end the message")
        return None


def recorder(channel: MessageChannel, folder: Path) -> ChannelMessageRecorder:
    return ChannelMessageRecorder(channel, folder)  # type: ignore[arg-type]  # record() only


def test_the_recorded_file_keeps_the_dot_of_an_asterisk_call_id() -> None:
    assert recorded_file("/m/1796313116.0-1") == Path("/m/1796313116.0-1.wav")
    assert recorded_file(Path("/m/call-7-complaint")) == Path("/m/call-7-complaint.wav")


def test_a_message_under_an_asterisk_call_id_is_kept(tmp_path: Path) -> None:
    message = recorder(MessageChannel(3.0), tmp_path).record_message(
        "complaint", 60, 3)
    assert message is not None
    assert Path(message.reference).name == f"{ASTERISK_CALL_ID}-complaint.wav"
    assert Path(message.reference).is_file() and message.duration_ms == 3000


def test_a_message_ended_by_hanging_up_is_kept_under_an_asterisk_call_id(
        tmp_path: Path) -> None:
    with pytest.raises(HungUpAfterMessage) as kept:
        recorder(MessageChannel(2.0, hang_up=True), tmp_path).record_message(
            "complaint", 60, 3)
    assert Path(kept.value.reference).name == f"{ASTERISK_CALL_ID}-complaint.wav"
