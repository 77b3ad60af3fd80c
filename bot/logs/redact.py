"""Removing secrets and personal data from user text before it is kept as evidence."""

from __future__ import annotations

import itertools
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
    (
        "slack-webhook",
        re.compile(
            r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[^\s'\"<>]+"
        ),
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("bearer-token", re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)),
    # ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server), ghr_
    # (refresh) and fine-grained github_pat_ tokens.
    # No word boundary before them: a token glued to a name (`Kindghp_…`) is still a token.
    ("github-token", re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{10,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{30,}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "secret",
        re.compile(
            r"(?i)\b([\w.-]*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key))"
            r"(\s+(?:is|was|equals)\s+)(?!\[REDACTED)(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
        ),
    ),
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


# An AWS secret access key is 40 characters of base64 with nothing that marks it, so it is only
# recognised next to AWS context: the words aws or secret, or an access key id, in the same text;
# and it needs both letter cases (a 40-digit hex commit id has no capitals).
_AWS_CONTEXT = re.compile(r"(?i)aws|secret|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_AWS_SECRET_KEY = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
# Words of a setting path that name a secret: its value is never kept, whatever it looks like.
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens", "key",
        "keys", "apikey", "credential", "credentials", "privatekey", "auth", "cert", "certificate",
    }
)  # fmt: skip
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
SECRET_VALUE = "[REDACTED:secret]"


def redact(text: str) -> str:
    """`text` with secrets, credentials and email addresses replaced by `[REDACTED:<what>]`."""
    aws_context = _AWS_CONTEXT.search(text) is not None
    for name, pattern in _RULES:
        text = pattern.sub(lambda m, n=name: _replacement(n, m), text)  # type: ignore[misc]
    if aws_context:
        text = _AWS_SECRET_KEY.sub("[REDACTED:aws-secret-key]", text)
    return text


def names_a_secret(path: str) -> bool:
    """Whether a setting path (`db.password`, `apiKey`, `auth.token`) names a secret value."""
    words = [w.lower() for w in _WORD.findall(path)]
    joined = {a + b for a, b in itertools.pairwise(words)}
    return any(w in _SECRET_WORDS for w in words) or bool(joined & _SECRET_WORDS)
