"""The JSON Schema of one workflow log line (format v1), generated from bot/logs/events.py."""

from __future__ import annotations

from typing import Any

from bot.knowledge.jsonschema import JSON_SCHEMA_DIALECT, strip_property_titles
from bot.logs.events import EVENT_ADAPTER

_EVENT_DEFS = {
    "RetrievedEvent": "retrieved",
    "SolutionEvent": "solution",
    "OutcomeEvent": "outcome",
}
# RFC 3339 with a mandatory offset; `format: date-time` alone is not checked by every validator.
RFC3339_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
)


def workflow_log_json_schema() -> dict[str, Any]:
    """The schema every line of a v1 workflow log conforms to (unknown keys are allowed)."""
    generated = EVENT_ADAPTER.json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "patternbot workflow log event, format v1",
        "description": (
            "One JSON object per line of a JSON Lines file; see docs/workflow-log.md. Readers "
            "ignore keys they do not know."
        ),
        **strip_property_titles(generated),
    }
    for name, event_type in _EVENT_DEFS.items():
        definition = schema["$defs"][name]
        # The discriminator must be present in a log line even though the models default it.
        definition["properties"]["type"] = {"const": event_type, "type": "string"}
        definition["required"] = sorted({*definition.get("required", []), "type"})
        definition["properties"]["ts"]["pattern"] = RFC3339_PATTERN
    return schema
