"""The route table: which handler serves which FastAGI script name.

`AGI(agi://127.0.0.1:4573/<route>)` in the dialplan selects `<route>`; classic AGI passes the
route as its first argument. `hotline` is the caller's IVR session through the live menus;
`queue-exit` serves a caller who pressed a key while waiting in a queue: 1 books a callback
keeping their place, * goes back to a menu; `survey` asks for a satisfaction score after the
agent hangs up. Tests add their own routes to a table of their own (tests/support.py); the
production table holds these three only.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType

from agi.channel import AgiChannel
from ivr.outcomes import Outcome

Route = Callable[[AgiChannel], Outcome]
ROUTE_NAMES = ("hotline", "queue-exit", "survey")


def build_routes(hotline: Route, queue_exit: Route, survey: Route) -> Mapping[str, Route]:
    return MappingProxyType(dict(zip(ROUTE_NAMES, (hotline, queue_exit, survey), strict=True)))
