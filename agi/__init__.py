"""FastAGI server, classic AGI entry and the channel adapter: the one package that speaks AGI
(pyst2's `asterisk.agi`, in agi/channel.py). It turns AGI connections into `ivr` sessions,
hands outcomes back to the dialplan as `IVR_*` channel variables, and names every channel
variable Python and the dialplan share (agi/variables.py). Must not import pbx/, services/,
console/ or the CLI."""
