"""The starter flow: greet, take one key, decide. Serves calls until menu trees (YAML) replace
it, and stays as the smallest end-to-end flow for smoke tests.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from ivr.outcomes import Outcome, OutcomeKind
from ivr.ports import ALL_KEYS, Channel

GREETING = "hello-world"
REPROMPT = "please-try-again"
AGENT_KEY = "0"
# Fallback queue: staffed by humans who take anything. Named in asterisk-conf/queues.conf.
FALLBACK_QUEUE = "fallback"


def run_starter(channel: Channel, *, key_timeout_ms: int = 5000, attempts: int = 2) -> Outcome:
    """Greet the caller and act on one key: 0 reaches an agent, any other key is recorded as the
    caller's choice. Silence is never a dead end: after `attempts` tries the caller gets an agent.
    """
    for attempt in range(attempts):
        key = channel.play(GREETING if attempt == 0 else REPROMPT, ALL_KEYS)
        if key is None:
            key = channel.wait_for_key(key_timeout_ms)
        if key is None:
            continue
        if key == AGENT_KEY:
            return Outcome(OutcomeKind.QUEUE, queue=FALLBACK_QUEUE, reason="caller-asked-agent",
                           facts={"choice": key})
        return Outcome(OutcomeKind.HANGUP, reason="choice-made", facts={"choice": key})
    return Outcome(OutcomeKind.QUEUE, queue=FALLBACK_QUEUE, reason="no-input")
