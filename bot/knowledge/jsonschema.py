"""JSON Schemas of pattern and policy files, generated from the models, for editors and tools."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from bot.knowledge.schema import ID_JSON_PATTERN, ID_MAX_LENGTH, Pattern, Policy

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The spelling rule every kind name follows; kinds.py adds near-miss hints a schema cannot give.
KIND_NAME_PATTERN = r"^[A-Z][A-Za-z0-9]*$"
# A text field must hold more than whitespace.
NON_BLANK_PATTERN = r"\S"
# ISO 8601 starts with the date; the validator checks the rest.
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
EXTENSION_KEYS = "^x-"
GIT_DERIVED_KEYS = ("createdAt", "createdBy")

_KIND_DESCRIPTION = "A Kubernetes kind name (UpperCamelCase, for example Deployment)."
# Property names (in any model) whose values get the pattern their Python validator implies.
_KIND_LISTS = {"suggestedResources", "appliesTo"}
_TEXT_FIELDS = {"description", "rationale", "createdBy", "name"}
_TEXT_LISTS = {"triggers"}
_TIMESTAMPS = {"createdAt", "appliedAt"}


def strip_property_titles(node: Any) -> Any:
    """Drop pydantic's generated property titles ('Createdat'); the descriptions say more."""
    if isinstance(node, dict):
        cleaned = {key: strip_property_titles(value) for key, value in node.items()}
        properties = cleaned.get("properties")
        if isinstance(properties, dict):
            for prop in properties.values():
                if isinstance(prop, dict):
                    prop.pop("title", None)
        return cleaned
    if isinstance(node, list):
        return [strip_property_titles(value) for value in node]
    return node


def _tighten_strings(schema: dict[str, Any]) -> None:
    """Add the rules the validators enforce in Python (kind names, non-blank text, dates)."""
    for node in [schema, *schema.get("$defs", {}).values()]:
        for name, prop in node.get("properties", {}).items():
            if name in _KIND_LISTS:
                prop["items"] = {
                    "type": "string",
                    "pattern": KIND_NAME_PATTERN,
                    "description": _KIND_DESCRIPTION,
                }
            elif name in _TEXT_LISTS:
                prop["items"] = {"type": "string", "pattern": NON_BLANK_PATTERN}
            elif name in _TEXT_FIELDS and prop.get("type") == "string":
                prop["pattern"] = NON_BLANK_PATTERN
            elif name in _TIMESTAMPS:
                _set_string_pattern(prop, ISO_DATE_PATTERN)
            elif name == "commonAdditions":
                prop["propertyNames"] = {"pattern": KIND_NAME_PATTERN}
                prop["additionalProperties"] = {"type": "integer", "minimum": 0}


def _set_string_pattern(prop: dict[str, Any], pattern: str) -> None:
    if prop.get("type") == "string":
        prop["pattern"] = pattern
    for option in prop.get("anyOf", []):
        if option.get("type") == "string":
            option["pattern"] = pattern


def item_json_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """The JSON Schema of one item file for `model` (Pattern or Policy), camelCase keys."""
    generated = model.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, **strip_property_titles(generated)}
    schema["title"] = title
    # `kind` tells the two models apart inside patternbot; the folder says it in a file.
    schema["properties"].pop("kind", None)
    schema["patternProperties"] = {
        EXTENSION_KEYS: {"description": "The author's own annotation; patternbot ignores it."}
    }
    _tighten_strings(schema)
    # The id rule needs lookaheads ("no '..'"), which the Python-side validator spells out instead.
    schema["properties"]["id"].update(pattern=ID_JSON_PATTERN, maxLength=ID_MAX_LENGTH)
    # Git knows who added a file and when: the loader fills these two when a file leaves them out.
    schema["required"] = [key for key in schema["required"] if key not in GIT_DERIVED_KEYS]
    return schema


def pattern_json_schema() -> dict[str, Any]:
    """The JSON Schema of a `patterns/<id>.yaml` file."""
    return item_json_schema(Pattern, "patternbot pattern")


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a `policies/<id>.yaml` file."""
    return item_json_schema(Policy, "patternbot policy intent")


def schema_text(schema: dict[str, Any]) -> str:
    """How a schema is written to disk: stable, indented JSON ending in a newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
