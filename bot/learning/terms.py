"""Words as a matcher sees them: camelCase split, lower-cased, stemmed, and phrases found in order.

A policy title says "Require Run As Non-Root User", a setting path says `runAsNonRoot` and a trigger
says "run as non-root": all three become the stems `run as non root`. Stemming is a small suffix
stripper (plurals, -ing, -ed, -ation, a final e), enough for the words policy authors use; the same
function is applied to both sides, so only consistency matters, not linguistic accuracy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[a-z0-9]+")
# A sentence ends at . ; ! ? followed by a space (so `app.kubernetes.io/name` stays whole).
_SENTENCE_END = re.compile(r"[.;!?](?:\s+|$)|\n+")
# Longest first: the first suffix that fits is stripped, once.
_SUFFIXES = (
    ("ations", ""), ("ation", ""), ("ates", ""), ("ated", ""), ("ating", ""), ("ate", ""),
    ("ings", ""), ("ing", ""), ("ies", "y"), ("sses", "ss"), ("ed", ""), ("es", ""), ("s", ""),
)  # fmt: skip
_KEEP_S = ("ss", "us", "is")
MAX_GAP = 3  # other words allowed between two words of a phrase ("CPU and memory resource limits")


def split_camel(text: str) -> str:
    """`readOnlyRootFilesystem` -> `read Only Root Filesystem`; `hostPID` -> `host PID`."""
    return _CAMEL.sub(" ", text)


def stem(word: str) -> str:
    """A crude stem: `capabilities` -> `capability`, `privileged` and `privilege` -> `privileg`."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        if suffix == "s" and word.endswith(_KEEP_S):
            break
        base = word[: -len(suffix)] + replacement
        if len(base) < 3:
            break
        word = base
        # `dropped` -> `dropp` -> `drop`, `running` -> `run`: undo a doubled final consonant.
        doubled = len(word) > 3 and word[-1] == word[-2] and word[-1] in "bdgmnprt"
        if suffix in ("ed", "ing") and doubled:
            word = word[:-1]
        break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def stems(text: str) -> list[str]:
    """The stemmed words of a text, camelCase split first."""
    return [stem(token) for token in _TOKEN.findall(split_camel(text).lower())]


def sentences(text: str) -> list[str]:
    """The text's sentences (or clauses after `;`), empty ones left out."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


@dataclass(frozen=True)
class Phrase:
    """Stemmed words to find in order, with at most `max_gap` other words between two of them."""

    words: tuple[str, ...]
    max_gap: int = MAX_GAP
    # Words a gap may not skip: in "CPU requests and memory limits", `cpu limit` would skip
    # `request`, the word that closes another phrase.
    barriers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, text: str) -> Phrase:
        """A phrase from text; a leading `=` asks for adjacent words (`=host path` is not found in
        "host and path")."""
        if text.startswith("="):
            return cls(tuple(stems(text[1:])), 0)
        return cls(tuple(stems(text)))


def phrase_at(words: Sequence[str], phrase: Phrase, start: int) -> bool:
    """True when `phrase` occurs in `words` beginning at `start`."""
    if not phrase.words or words[start] != phrase.words[0]:
        return False
    position = start
    for word in phrase.words[1:]:
        window = words[position + 1 : position + 2 + phrase.max_gap]
        if word not in window:
            return False
        skipped = window[: window.index(word)]
        if phrase.barriers.intersection(skipped):
            return False
        position += 1 + len(skipped)
    return True


def contains_phrase(words: Sequence[str], phrase: Phrase) -> bool:
    """True when the stemmed `phrase` occurs in the stemmed `words` (see `phrase_at`).

    An occurrence right after `non` does not count unless the phrase itself starts with it: a
    "non-CPU limit" is not a CPU limit.
    """
    first = phrase.words[0] if phrase.words else ""
    for start in range(len(words)):
        if phrase_at(words, phrase, start) and not (
            start > 0 and words[start - 1] == "non" and first != "non"
        ):
            return True
    return False
