"""The supervisor web console (FastAPI + Jinja2), listening on 127.0.0.1 by default. Must not
import the CLI (hotline/)."""
