"""Asterisk adapters: provisioning, config rendering, the running instance, the AMI client
and what is read or originated over it. The only package besides agi/ that imports pyst2.
Must not import services/, console/ or the CLI."""
