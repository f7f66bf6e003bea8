"""Shared bottom layer for everything that runs on a host: settings read from the
environment and small host helpers (apt, processes, ports). Imports nothing of ours."""
