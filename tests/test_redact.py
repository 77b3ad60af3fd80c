"""Redaction of secrets and personal data in user text: exact outputs."""

from __future__ import annotations

import pytest

from bot.logs.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call with Authorization: Bearer abcdef123456.xyz now",
         "call with Authorization: Bearer [REDACTED:token] now"),
        ("token ghp_0123456789abcdefghijABCDEFGHIJ0123 and "
         "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
         "token [REDACTED:github-token] and [REDACTED:github-token]"),
        ("aws AKIAIOSFODNN7EXAMPLE key", "aws [REDACTED:aws-access-key] key"),
        ("slack xoxb-123456789012-abcdefghijkl", "slack [REDACTED:slack-token]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
         "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end", "jwt [REDACTED:jwt] end"),
        ("key -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"
         "-----END RSA PRIVATE KEY----- done",
         "key [REDACTED:private-key] done"),
        ("a cut -----BEGIN PRIVATE KEY-----\nMIIEpAIBAAKC", "a cut [REDACTED:private-key]"),
        ("db_password=hunter2, api_key: 'abc def', SECRET=\"x y\" and token:abc123",
         "db_password=[REDACTED:secret], api_key: [REDACTED:secret], SECRET=[REDACTED:secret] "
         "and token:[REDACTED:secret]"),
        ("clone https://bob:s3cret@git.example.com/repo.git please",
         "clone https://[REDACTED:credentials]@git.example.com/repo.git please"),
        ("connect to postgresql://app:pw@db.internal:5432/orders?sslmode=require today",
         "connect to [REDACTED:connection-string] today"),
        ("use mongodb+srv://cluster0.example.net/test", "use [REDACTED:connection-string]"),
        ("mail alice.smith+ops@example.co.uk or bob@corp.io",
         "mail [REDACTED:email] or [REDACTED:email]"),
        ("github_token=ghp_0123456789abcdefghijABCDEFGHIJ0123",
         "github_token=[REDACTED:github-token]"),
    ],
)  # fmt: skip
def test_redact_replaces_secrets(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "deploy a web app with 3 replicas behind an ingress",
        "rotate the token signing key monthly",
        "set spec.replicas=3 and image tag 1.2.3",
        "see https://docs.example.com/guide#tokens",
    ],
)
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text
