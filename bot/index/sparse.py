"""Lexical sparse vectors, BM25-style: Qdrant multiplies them by IDF (`Modifier.IDF`) at query time.

A document's value for a term is BM25's saturated, length-normalised term frequency; a query's is
1.0 per distinct term. With the collection's IDF modifier, Qdrant's dot product is the BM25 score.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

K1 = 1.2
B = 0.75
# A fixed average length keeps a document's values independent of the rest of the collection,
# so an unchanged item never needs re-indexing; it is about the length of a pattern's text.
AVERAGE_LENGTH = 40.0

_WORD = re.compile(r"[a-z0-9]+")
# fmt: off
STOP_WORDS: frozenset[str] = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "i",
    "in", "into", "is", "it", "its", "my", "of", "on", "or", "our", "so", "that", "the", "their",
    "them", "then", "there", "these", "this", "to", "was", "we", "were", "what", "when", "where",
    "which", "while", "who", "will", "with", "you", "your", "want", "need", "needs", "some", "any",
    "can", "should", "would", "could", "up", "down", "out", "over", "get", "let", "all",
    "other", "also", "just", "like", "more", "very", "how", "do", "does", "not", "no", "than",
})
# fmt: on


@dataclass(frozen=True)
class SparseTerms:
    """A sparse vector: parallel lists of term ids (sorted) and values."""

    indices: list[int]
    values: list[float]


def tokenize(text: str) -> list[str]:
    """Lowercase words and numbers of `text`, stop words dropped, in order."""
    return [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def term_id(term: str) -> int:
    """A stable id for a term (the same in every process, unlike Python's salted `hash`)."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def _from_weights(weights: dict[int, float]) -> SparseTerms:
    ordered = sorted(weights.items())
    return SparseTerms([index for index, _ in ordered], [value for _, value in ordered])


def document_vector(text: str) -> SparseTerms:
    """BM25 term-frequency weights of a document (k1=1.2, b=0.75, fixed average length)."""
    words = tokenize(text)
    norm = K1 * (1 - B + B * len(words) / AVERAGE_LENGTH)
    weights: dict[int, float] = {}
    for word, count in Counter(words).items():
        index = term_id(word)
        # Two words with the same crc32 share a slot; add, so neither is lost.
        weights[index] = weights.get(index, 0.0) + count * (K1 + 1) / (count + norm)
    return _from_weights(weights)


def query_vector(text: str) -> SparseTerms:
    """1.0 for each distinct term of a query."""
    return _from_weights({term_id(word): 1.0 for word in tokenize(text)})
