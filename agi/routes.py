"""The route table: which handler serves which FastAGI script name.

`AGI(agi://127.0.0.1:4573/<route>)` in the dialplan selects `<route>`; classic AGI passes the
route as its first argument. `hotline` is the caller's IVR session through the live menus;
`queue-exit` serves a caller who pressed a key while waiting in a queue: 1 books a callback
keeping their place, * goes back to a menu; `survey` asks for a satisfaction score after the
agent hangs up;
`starter` is the smallest end-to-end flow, for smoke tests of the plumbing.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ivr.outcomes import Outcome
from ivr.ports import Channel
from ivr.starter import run_starter

Route = Callable[[Channel], Outcome]
ROUTE_NAMES = ("hotline", "queue-exit", "survey", "starter")


def starter_route(channel: Channel) -> Outcome:
    return run_starter(channel)


def build_routes(hotline: Route, queue_exit: Route, survey: Route) -> Mapping[str, Route]:
    return MappingProxyType({"hotline": hotline, "queue-exit": queue_exit, "survey": survey,
                             "starter": starter_route})
