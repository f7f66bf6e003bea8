"""Every channel variable the AGI layer and the dialplan share: one name, one place.

A test checks that the dialplan uses exactly these names.
"""

from typing import Final

# Set by AGI routes, read by dialplan/hotline.conf.
IVR_OUTCOME: Final = "IVR_OUTCOME"  # ivr.outcomes.OutcomeKind value
IVR_QUEUE: Final = "IVR_QUEUE"  # queue for OutcomeKind.QUEUE
IVR_REASON: Final = "IVR_REASON"  # short machine-readable why, for reports and the agent
IVR_CHOICE: Final = "IVR_CHOICE"  # top-level key the caller chose (never sensitive digits)

ALL: Final = (IVR_OUTCOME, IVR_QUEUE, IVR_REASON, IVR_CHOICE)
