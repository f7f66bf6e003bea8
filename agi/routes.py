"""The route table: which handler serves which FastAGI script name.

`AGI(agi://127.0.0.1:4573/<route>)` in the dialplan selects `<route>`; classic AGI passes the
route as its first argument. `hotline` is the caller's IVR session through the live menus;
`queue-callback` serves a caller who left a queue to book a callback keeping their place;
`starter` is the smallest end-to-end flow, for smoke tests of the plumbing.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ivr.outcomes import Outcome
from ivr.ports import Channel
from ivr.starter import run_starter

Route = Callable[[Channel], Outcome]
ROUTE_NAMES = ("hotline", "queue-callback", "starter")


def starter_route(channel: Channel) -> Outcome:
    return run_starter(channel)


def build_routes(hotline: Route, queue_callback: Route) -> Mapping[str, Route]:
    return MappingProxyType({"hotline": hotline, "queue-callback": queue_callback,
                             "starter": starter_route})
