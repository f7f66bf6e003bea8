"""Pure IVR domain: menus, interpretation, routing decisions, outcomes.

Must not import pyst2 (`asterisk`), any other package of ours, vosk or sqlalchemy: it talks
to the outside world only through the Protocol ports in `ivr.ports` (import-linter checks).
"""
