"""JSON Schemas of the files operators edit, for completion and errors in their editors.
Each is committed beside the files that point at it (a test keeps them current):
menus/menu.schema.json, routing/agents.schema.json, prompts/catalog.schema.json and
prompts/lexicon.schema.json.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import json

from pydantic import BaseModel

from ivr.agents import AgentsFile
from ivr.catalog import Catalog, Lexicon
from ivr.menu_schema import MenuFile

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# kind -> (model, title, where the committed copy lives, the files that use it there)
SCHEMAS: dict[str, tuple[type[BaseModel], str, str, str]] = {
    "menus": (MenuFile, "Hotline IVR menu file", "menus/menu.schema.json", "*.yaml"),
    "agents": (AgentsFile, "Hotline IVR agents and skills", "routing/agents.schema.json",
               "agents.yaml"),
    "catalog": (Catalog, "Hotline IVR prompt catalog", "prompts/catalog.schema.json",
                "catalog.yaml"),
    "lexicon": (Lexicon, "Hotline IVR pronunciation lexicon", "prompts/lexicon.schema.json",
                "lexicon.yaml"),
}


def json_schema(kind: str) -> str:
    model, title, _path, _files = SCHEMAS[kind]
    schema = model.model_json_schema()
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["title"] = title
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
