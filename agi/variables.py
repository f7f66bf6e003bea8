"""Every channel variable Python code and the dialplan share: one name, one place.

Grouped by who sets them and which contexts read them. A test checks that the dialplan uses
exactly these names in each group.
"""

from typing import Final

# Set by AGI routes, read by dialplan/hotline.conf.
IVR_OUTCOME: Final = "IVR_OUTCOME"  # ivr.outcomes.OutcomeKind value
IVR_QUEUE: Final = "IVR_QUEUE"  # the Asterisk queue of a queue call (<menu queue>-<language>)
IVR_REASON: Final = "IVR_REASON"  # short machine-readable why, for reports and the agent
IVR_CHOICE: Final = "IVR_CHOICE"  # first menu key the caller chose (never sensitive digits)
IVR_PRIORITY: Final = "IVR_PRIORITY"  # queue priority (QUEUE_PRIO); higher answered first
IVR_SKILLS: Final = "IVR_SKILLS"  # space-separated skills the agent needs
IVR_INTENT: Final = "IVR_INTENT"  # what the caller wants, e.g. lost-card
IVR_LANGUAGE: Final = "IVR_LANGUAGE"  # language/dialect tag the caller chose
IVR_PATH: Final = "IVR_PATH"  # menu nodes the caller went through, '>'-separated
IVR_CUSTOMER: Final = "IVR_CUSTOMER"  # customer id found by a lookup (an internal id)
IVR_MENU_VERSION: Final = "IVR_MENU_VERSION"  # which menu files served the call; set first
IVR_MAX_PENALTY: Final = "IVR_MAX_PENALTY"  # QUEUE_MAX_PENALTY at first: best-fit agents
IVR_QUEUE_RULE: Final = "IVR_QUEUE_RULE"  # queue rule widening the pool while the caller waits
IVR_CALLBACK: Final = "IVR_CALLBACK"  # callback node for a caller leaving the queue (key 1)
IVR_LEAVE_TO: Final = "IVR_LEAVE_TO"  # menu node for a caller leaving the queue (key *)
IVR_START: Final = "IVR_START"  # set by the dialplan: run the menus from this node
IVR_CALLBACK_NUMBER: Final = "IVR_CALLBACK_NUMBER"  # a booked callback's number (never logged)
IVR_CALLBACK_NOW: Final = "IVR_CALLBACK_NOW"  # "yes": outside quiet hours, dial when answered
IVR_VERIFIED: Final = "IVR_VERIFIED"  # pin | id_and_card | no | locked, for the agent
IVR_VERIFY_FAILURES: Final = "IVR_VERIFY_FAILURES"  # wrong secrets keyed in this call
IVR_SERVICE: Final = "IVR_SERVICE"  # the menu queue of a queue call (general, cards, ...)
IVR_QUEUE_TIMEOUT: Final = "IVR_QUEUE_TIMEOUT"  # seconds before no agent took it; unset: none
IVR_NO_AGENT: Final = "IVR_NO_AGENT"  # menu node for a caller no agent took in time

ALL: Final = (IVR_OUTCOME, IVR_QUEUE, IVR_REASON, IVR_CHOICE, IVR_PRIORITY, IVR_SKILLS,
              IVR_INTENT, IVR_LANGUAGE, IVR_PATH, IVR_CUSTOMER, IVR_MENU_VERSION,
              IVR_MAX_PENALTY, IVR_QUEUE_RULE, IVR_CALLBACK, IVR_LEAVE_TO, IVR_START,
              IVR_CALLBACK_NUMBER, IVR_CALLBACK_NOW, IVR_VERIFIED, IVR_VERIFY_FAILURES,
              IVR_SERVICE, IVR_QUEUE_TIMEOUT, IVR_NO_AGENT)

# The placeholder of a caller to be called back ([hotline-virtual-hold] and
# [hotline-callback-dial]): set by [hotline-queue-exit] and by the callback dialler
# (services.dialler) when it originates one.
HOLD_QUEUE: Final = "HOLD_QUEUE"  # the Asterisk queue it waits in
HOLD_PRIO: Final = "HOLD_PRIO"  # its QUEUE_PRIO
HOLD_POSITION: Final = "HOLD_POSITION"  # the place it takes ("" for the end)
HOLD_RULE: Final = "HOLD_RULE"  # queue rule widening the agents while it waits
HOLD_MAX_PENALTY: Final = "HOLD_MAX_PENALTY"  # QUEUE_MAX_PENALTY at first
HOLD_FOR: Final = "HOLD_FOR"  # the call id that booked the callback
HOLD_INTENT: Final = "HOLD_INTENT"  # for the agent's screen
HOLD_LANGUAGE: Final = "HOLD_LANGUAGE"  # for the agent's screen
CALLBACK_NUMBER: Final = "CALLBACK_NUMBER"  # who to dial once an agent answers (never logged)

PLACEHOLDER: Final = (HOLD_QUEUE, HOLD_PRIO, HOLD_POSITION, HOLD_RULE, HOLD_MAX_PENALTY,
                      HOLD_FOR, HOLD_INTENT, HOLD_LANGUAGE, CALLBACK_NUMBER)

# The demo and test caller ([hotline-scripted-caller]), set by pbx.calls when it originates.
CALLER_STEPS: Final = "CALLER_STEPS"
CALLER_SOUNDS: Final = "CALLER_SOUNDS"
CALLER_WAIT_S: Final = "CALLER_WAIT_S"
CALLER_KEYS: Final = "CALLER_KEYS"
CALLER_STAY_S: Final = "CALLER_STAY_S"
CALLER_RECORD: Final = "CALLER_RECORD"
CALLER_TALK: Final = "CALLER_TALK"

SCRIPTED_CALLER: Final = (CALLER_STEPS, CALLER_SOUNDS, CALLER_WAIT_S, CALLER_KEYS,
                          CALLER_STAY_S, CALLER_RECORD, CALLER_TALK)

# Live monitoring ([hotline-supervisor]), set by the console (console.live).
SPY_ON: Final = "SPY_ON"  # the agent's interface the supervisor's phone listens to
