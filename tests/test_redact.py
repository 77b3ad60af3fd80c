"""Redaction of secrets and personal data in user text: exact outputs."""

from __future__ import annotations

import pytest

from bot.logs.redact import names_a_secret, redact


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
        # Every GitHub token prefix: server, OAuth, user-to-server, refresh.
        ("ghs_0123456789abcdefghijABCDEFGHIJ0123 gho_0123456789abcdefghijABCDEFGHIJ0123 "
         "ghu_0123456789abcdefghijABCDEFGHIJ0123 ghr_0123456789abcdefghijABCDEFGHIJ0123",
         "[REDACTED:github-token] [REDACTED:github-token] [REDACTED:github-token] "
         "[REDACTED:github-token]"),
        ("key sk-ant-api03-AbCdEf0123456789_-xyz end", "key [REDACTED:anthropic-key] end"),
        ("maps AIzaSyD-0123456789abcdefghijklmnopqrstu ok", "maps [REDACTED:google-api-key] ok"),
        ("gitlab glpat-0123456789abcdefghij", "gitlab [REDACTED:gitlab-token]"),
        ("post to https://hooks.slack.com/services/T0001/B0002/abcdefXYZ123 now",
         "post to [REDACTED:slack-webhook] now"),
        ("the password is hunter2, then", "the password is [REDACTED:secret], then"),
        ("password: hunter2", "password: [REDACTED:secret]"),
        ("aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "aws_secret_access_key [REDACTED:aws-secret-key]"),
        ("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "[REDACTED:aws-access-key] [REDACTED:aws-secret-key]"),
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
        # A 40-character base64-like word without AWS context, and a commit id with it.
        "build wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY passed",
        "secret rotation at commit 0123456789abcdef0123456789abcdef01234567",
    ],
)
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("db.password", True), ("apiKey", True), ("auth.token", True), ("x-api-key", True),
        ("tls.privateKey", True), ("credentials.file", True), ("SECRET_KEY", True),
        ("spec.replicas", False), ("image.tag", False), ("keyboard.layout", False),
        ("monkey", False),
    ],
)  # fmt: skip
def test_setting_paths_that_name_a_secret(path: str, secret: bool) -> None:
    assert names_a_secret(path) is secret
