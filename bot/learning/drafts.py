"""Drafted items: every draft is a complete pattern or policy that validates against the schema."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.knowledge.schema import Pattern, Policy

BOT_AUTHOR = "patternbot"


def item_data(item: Pattern | Policy) -> dict[str, Any]:
    """An existing item as draft data: camelCase, without the derived usage metrics."""
    data = item.to_data()
    data.pop("usageMetrics", None)
    return data


def checked_draft(model: type[Pattern] | type[Policy], data: dict[str, Any]) -> dict[str, Any]:
    """The draft as normalised data; raises ValueError naming the problem if it is invalid."""
    try:
        return model.model_validate(data).to_data()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"draft {data.get('id')!r} is invalid at {where}: {first['msg']}") from exc
