"""FastAGI server, classic AGI entry and the channel adapter: the only package that imports
pyst2 (`asterisk.agi`). It turns AGI connections into `ivr` sessions and hands outcomes back
to the dialplan as `IVR_*` channel variables."""
