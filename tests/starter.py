"""The starter flow: greet, take one key, decide. The smallest end-to-end flow, served by the
tests' own routes (tests/support.py) to check the plumbing: FastAGI, classic AGI, the
dialplan's outcome handling. Not part of the hotline's route table.
"""

from ivr.outcomes import FALLBACK_QUEUE, CallSummary, HangUp, Outcome, QueueCall, QueueRoute
from ivr.ports import ALL_KEYS, Channel

GREETING = "hello-world"
REPROMPT = "please-try-again"
AGENT_KEY = "0"


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
            return _to_fallback(CallSummary(reason="caller-asked-agent", choice=key))
        return HangUp(summary=CallSummary(reason="choice-made", choice=key))
    return _to_fallback(CallSummary(reason="no-input"))


def _to_fallback(summary: CallSummary) -> QueueCall:
    return QueueCall(summary=summary, service=FALLBACK_QUEUE, route=QueueRoute(FALLBACK_QUEUE))
