"""Removing secrets and personal data from user text before it is kept as evidence."""

from __future__ import annotations

import re

# Order matters: whole blocks and specific token shapes go first, so that the generic
# `key=value` rule does not leave half of a recognised token behind.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
    ),
    (
        "connection-string",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver)"
            r"://[^\s'\"<>]+",
            re.IGNORECASE,
        ),
    ),
    (
        "url-credentials",
        re.compile(r"\b([a-z][a-z0-9+.-]*://)[^\s/:@'\"]+:[^\s/@'\"]+@", re.IGNORECASE),
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("bearer-token", re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "secret",
        re.compile(
            r"(?i)\b([\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[\w.-]*)"
            r"(\s*[:=]\s*)(?!\[REDACTED)(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
        ),
    ),
    ("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
)


def _replacement(name: str, match: re.Match[str]) -> str:
    if name == "url-credentials":
        return f"{match.group(1)}[REDACTED:credentials]@"
    if name == "bearer-token":
        return f"{match.group(1)} [REDACTED:token]"
    if name == "secret":
        return f"{match.group(1)}{match.group(2)}[REDACTED:secret]"
    return f"[REDACTED:{name}]"


def redact(text: str) -> str:
    """`text` with secrets, credentials and email addresses replaced by `[REDACTED:<what>]`."""
    for name, pattern in _RULES:
        text = pattern.sub(lambda m, n=name: _replacement(n, m), text)  # type: ignore[misc]
    return text
