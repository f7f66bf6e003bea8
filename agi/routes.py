"""The route table: which handler serves which FastAGI script name.

`AGI(agi://127.0.0.1:4573/<route>)` in the dialplan selects `<route>`; classic AGI passes the
route as its first argument. One table, so a test can check it against the dialplan.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ivr.outcomes import Outcome
from ivr.ports import Channel
from ivr.starter import run_starter

Route = Callable[[Channel], Outcome]


def hotline_route(channel: Channel) -> Outcome:
    """The hotline's main entry: the caller's whole IVR session."""
    return run_starter(channel)


ROUTES: Mapping[str, Route] = MappingProxyType({
    "hotline": hotline_route,
})
