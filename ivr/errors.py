"""Errors the IVR domain understands. Adapters translate third-party exceptions into these.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""


class CallerHungUp(Exception):
    """The caller left; stop issuing channel commands and finish bookkeeping only."""


class HungUpAfterMessage(CallerHungUp):
    """The caller hung up to end a message they had left: keep it (`reference`, its
    length), then stop like any hang-up."""

    def __init__(self, reference: str, duration_ms: int) -> None:
        super().__init__("hung up after leaving a message")
        self.reference = reference
        self.duration_ms = duration_ms


class ChannelError(Exception):
    """The channel misbehaved (protocol garbage, timeout, broken stream) but the caller may
    still be there: the dialplan must send them to a human."""
