"""Errors the IVR domain understands. Adapters translate third-party exceptions into these.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""


class CallerHungUp(Exception):
    """The caller left; stop issuing channel commands and finish bookkeeping only."""


class ChannelError(Exception):
    """The channel misbehaved (protocol garbage, timeout, broken stream) but the caller may
    still be there: the dialplan must send them to a human."""
