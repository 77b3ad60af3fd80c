"""Normalising outcome error texts so that failures with the same cause count together.

`Deadline 30s exceeded calling 10.0.3.7:5432 (req 9f1c2e3a44)` and the same message with another
address, duration and request id are one cause. Secrets are redacted first (a token must never be
half-masked into something that no longer looks like a token), then URLs, e-mail addresses, UUIDs,
IP addresses, host names, hexadecimal ids and numbers are masked, whitespace is collapsed and the
text is cut to a bounded length.
"""

from __future__ import annotations

import re

from bot.logs.redact import redact

# Masks in order: a URL holds hosts and numbers, a UUID holds hex runs, an address holds numbers.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]]+"), "<url>"),
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b"), "<email>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    # IPv6: five or more groups, or a "::" (so that a time such as 10:03:00 stays a number).
    (
        re.compile(
            r"(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){5,7}[0-9a-fA-F]{1,4}"
            r"|(?:[0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{0,4}::(?:[0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{1,4})"
            r"(?![\w:])"
        ),
        "<ip>",
    ),
    # A host: three or more dot-separated labels (db.prod.svc), or two ending in a common
    # top-level domain (api.example.com is three; example.com is two). File names such as
    # values.yaml have two labels and stay.
    (
        re.compile(
            r"\b(?:[A-Za-z0-9-]+\.){2,}[A-Za-z][A-Za-z0-9-]*(?::\d+)?\b"
            r"|\b[A-Za-z0-9-]+\.(?:com|net|org|io|dev|local|internal|cloud)(?::\d+)?\b"
        ),
        "<host>",
    ),
    # A hexadecimal id: eight or more hex digits with at least one digit (not a plain word).
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)*"), "<n>"),
)
_SPACE = re.compile(r"\s+")


def normalise_error(text: str, limit: int) -> str:
    """`text` redacted, with variable parts masked, on one line, at most `limit` characters."""
    result = redact(text)
    for pattern, mask in _MASKS:
        result = pattern.sub(mask, result)
    result = _SPACE.sub(" ", result).strip()
    return result if len(result) <= limit else result[: limit - 1] + "…"
