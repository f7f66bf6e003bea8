"""`ivr.ports.CallRecording` over AGI: runs the dialplan's [hotline-recording] subroutine,
which owns the file (named by call id in a dated folder) and MixMonitor's options, so the
dialplan's failure path and the IVR start, pause and resume recordings the same way.
"""

from __future__ import annotations

from typing import Protocol

from agi.channel import AgiReply

RECORDING_CONTEXT = "hotline-recording"


class _Commands(Protocol):
    def command(self, verb: str, *args: str | int) -> AgiReply: ...


class MixMonitorRecording:
    def __init__(self, channel: _Commands) -> None:
        self.channel = channel

    def start(self) -> None:
        self._gosub("start")

    def pause(self) -> None:
        self._gosub("pause")

    def resume(self) -> None:
        self._gosub("resume")

    def _gosub(self, step: str) -> None:
        # One round trip: AGI's GOSUB runs the subroutine to its Return().
        self.channel.command("GOSUB", RECORDING_CONTEXT, step, 1)
