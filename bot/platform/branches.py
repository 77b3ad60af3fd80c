"""Branch names for proposals: derived from the suggestion's identity, never from log or model text.

A suggestion's identity is its fingerprint (type, target, the change). The branch is
`<prefix>/<type>/<fingerprint>` for created items, whose id is drafted from logs or by a model,
and `<prefix>/<type>/<target slug>-<fingerprint>` for changes to an existing item, whose id names
a file in the knowledge base. Every part is reduced to [a-z0-9-], so the name is a valid git ref
(no "..", ".lock", trailing dot or control character) and its length is bounded.
"""

from __future__ import annotations

import hashlib
import re

from bot.learning.suggestion import Suggestion, SuggestionType

# Long enough to recognise the item, short enough that a branch stays well under ref and file
# name limits (255 bytes per path component) whatever the id.
SLUG_LIMIT = 40
FINGERPRINT_LIMIT = 16

_CREATES = (SuggestionType.CREATE_PATTERN, SuggestionType.CREATE_POLICY)


def slug(text: str, limit: int = SLUG_LIMIT) -> str:
    """`text` as lowercase letters, digits and single dashes, at most `limit` characters."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:limit].rstrip("-")


def identity_token(fingerprint: str) -> str:
    """The fingerprint as a ref-safe token (hashed when it has no usable characters)."""
    token = slug(fingerprint, FINGERPRINT_LIMIT)
    return token or hashlib.sha256(fingerprint.encode()).hexdigest()[:FINGERPRINT_LIMIT]


def branch_name(prefix: str, suggestion: Suggestion) -> str:
    """The one branch of this suggestion's identity: same fingerprint, same branch, any wording."""
    kind = suggestion.type.value.replace("_", "-")
    token = identity_token(suggestion.evidence.fingerprint)
    if suggestion.type in _CREATES or not suggestion.target:
        return f"{prefix}/{kind}/{token}"
    target = slug(suggestion.target)
    return f"{prefix}/{kind}/{target}-{token}" if target else f"{prefix}/{kind}/{token}"
