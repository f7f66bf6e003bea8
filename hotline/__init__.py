"""The `hotline` command line: thin Typer commands over services/, pbx/, db/ and ivr/. Nothing
imports it."""
