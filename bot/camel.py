"""The base of every camelCase data model (items, settings, suggestions, reports).

Its own module, so `bot.config` loads without building the knowledge-base models: a cold
`patternbot recommend` reads the settings but never validates a pattern (docs/index.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """A model whose YAML and JSON keys are camelCase and whose unknown keys are errors."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=False
    )

    def to_data(self) -> dict[str, Any]:
        """The model as plain YAML/JSON data with camelCase keys, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
