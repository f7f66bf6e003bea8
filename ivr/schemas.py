"""JSON Schemas of the files operators edit, for completion and errors in their editors.
Each is committed beside the files that point at it (a test keeps them current):
menus/menu.schema.json, routing/agents.schema.json, prompts/catalog.schema.json.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

import json

from pydantic import BaseModel

from ivr.agents import AgentsFile
from ivr.catalog import Catalog
from ivr.menu_schema import MenuFile

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# kind -> (model, title, where the committed copy lives in the project)
SCHEMAS: dict[str, tuple[type[BaseModel], str, str]] = {
    "menus": (MenuFile, "Hotline IVR menu file", "menus/menu.schema.json"),
    "agents": (AgentsFile, "Hotline IVR agents and skills", "routing/agents.schema.json"),
    "catalog": (Catalog, "Hotline IVR prompt catalog", "prompts/catalog.schema.json"),
}


def json_schema(kind: str) -> str:
    model, title, _path = SCHEMAS[kind]
    schema = model.model_json_schema()
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["title"] = title
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
