"""A gap's words: the phrases its requests share, matched by stem, written as users typed them.

Requests about one topic vary their words ("backup", "backups", "nightly backups"), so phrases
are counted by stem (bot.learning.terms.stem) and shown in their most common spelling. A phrase
must be shared by enough of the group's requests and be far more common in the group than in the
other weak requests: subjects that recur across topics ("orders", "payments") name no topic.
Log text is untrusted: links, markup, mentions, references and host names are removed before any
word is counted, so nothing drafted can carry them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.learning.terms import stem
from bot.learning.wording import STOPWORDS

# Words that name no topic on their own; inside a longer phrase ("message service") they may stay.
GENERIC_WORDS = frozenset(
    """
    online service services server servers app apps application applications system systems
    platform tool tools workload workloads deployment deployments pod pods container containers
    cluster clusters environment environments prod production staging dev test data api apis
    endpoint instance instances component components thing solution solutions simple small
    big large fast quick easy basic internal external other others every each all daily weekly
    good better best support supports team teams company project projects
    serve serving host hosting run expose provide manage handle put keep add start launch spin
    provision site sites page pages open source lightweight high-performance performance
    scalable reliable modern powerful popular free enterprise production-ready ready
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# Connecting words: like stop words, they never start, end or stand for a phrase.
CONNECTING_WORDS = frozenset(
    """
    between across within via per through behind without after before about among onto inside
    outside where when which what who whose while also than very more less looking look
    wants wanted m s t re ve ll d why whether
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_SKIPPED = STOPWORDS | CONNECTING_WORDS
_GENERIC_STEMS = frozenset(stem(word) for word in GENERIC_WORDS | _SKIPPED)

_UNTRUSTED = re.compile(
    r"""
      !?\[[^\]]*\]\([^)]*\)            # Markdown links and images, text included
    | \b[a-z][a-z0-9+.-]*://\S*        # URLs with a scheme
    | \bwww\.\S*                       # URLs without one
    | \S+@\S+                          # e-mail addresses
    | (?<![\w])[@#]\S+                 # @mentions, #refs and #channels
    | <[^>]*>                          # HTML tags and <redacted> placeholders
    | \[REDACTED(?::[\w-]+)?\]         # masks bot/logs/redact.py put where a secret was
    | `[^`]*`                          # inline code
    | \b[\w-]+(?:\.[\w-]+)+\b(?:/\S*)? # host names, dotted identifiers, paths under them
    | (?:^|\s)/\S+                     # file paths
    """,
    re.IGNORECASE | re.VERBOSE,
)
_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_PHRASE_WORDS = 3


def clean_words(text: str) -> list[str]:
    """The lower-case words of an untrusted text, after removing links, markup and mentions."""
    return _WORD.findall(_UNTRUSTED.sub(" ", text.lower()))


def is_generic(word: str) -> bool:
    """True for a stop word or a word that names no topic on its own."""
    return word in _SKIPPED or word in GENERIC_WORDS or stem(word) in _GENERIC_STEMS


@dataclass
class _Counts:
    documents: Counter[tuple[str, ...]] = field(default_factory=Counter)
    spellings: dict[tuple[str, ...], Counter[str]] = field(default_factory=dict)
    texts: dict[tuple[str, ...], set[int]] = field(default_factory=dict)


def _grams(text: str) -> dict[tuple[str, ...], str]:
    """Stem tuples of the text's phrases of one to three content words, with their spelling.

    Stop words separate nothing ("backups of databases" holds "backups databases"), as before;
    a phrase of generic words only, or repeating a stem, is no phrase.
    """
    words = [w for w in clean_words(text) if w not in _SKIPPED]
    found: dict[tuple[str, ...], str] = {}
    for size in range(1, MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            part = words[start : start + size]
            key = tuple(stem(w) for w in part)
            if len(set(key)) < size or all(is_generic(w) for w in part):
                continue
            found.setdefault(key, " ".join(part))
    return found


def _count(texts: Sequence[str]) -> _Counts:
    counts = _Counts()
    for number, text in enumerate(texts):
        for key, spelling in _grams(text).items():
            counts.documents[key] += 1
            counts.spellings.setdefault(key, Counter())[spelling] += 1
            counts.texts.setdefault(key, set()).add(number)
    return counts


def topic_phrases(
    texts: Sequence[str],
    others: Sequence[str] = (),
    *,
    limit: int = 6,
    min_share: float = 0.15,
    relative: float = 1 / 3,
    contrast: float = 2.0,
) -> list[str]:
    """Phrases that name what `texts` are about, most telling first, at most `limit`.

    A phrase must occur (by stem) in two of the texts, in at least `min_share` of them and at
    least `relative` times as often as the group's most common phrase: a family's phrasings recur
    about equally, while the subjects they are applied to ("checkout", "clickstream") spread
    thinner. Its share among `others` (the other weak requests) must be under 1/`contrast` of its
    share here. Longer phrases weigh more (each extra word as half a text). A phrase sharing a
    stem with a chosen one is kept only when it holds it ("event streaming" after "event") or
    when it is part of it and stands without it in as many texts as a phrase needs. A phrase must
    be part of two longer texts: none stands only for whole requests.
    """
    if not texts:
        return []
    mine, theirs = _count(texts), _count(others)
    contents = [tuple(stem(w) for w in clean_words(t) if w not in _SKIPPED) for t in texts]
    candidates = {
        key: count
        for key, count in mine.documents.items()
        # Part of two longer requests at least: a phrase never stands only for whole requests.
        if sum(1 for i in mine.texts[key] if contents[i] != key) >= 2
        and (theirs.documents[key] / len(others) if others else 0.0) * contrast
        <= count / len(texts)
    }
    if not candidates:
        return []
    needed = max(
        2, math.ceil(min_share * len(texts)), math.ceil(relative * max(candidates.values()))
    )
    ranked = sorted(
        ((count * (1 + 0.5 * (len(key) - 1)), len(key), key)
         for key, count in candidates.items() if count >= needed),
        key=lambda item: (-item[0], -item[1], item[2]),
    )  # fmt: skip
    chosen: list[tuple[str, ...]] = []
    for _weight, _size, key in ranked:
        if len(chosen) >= limit:
            break
        related = [other for other in chosen if set(key) & set(other)]
        # A longer phrase holding a chosen one is more specific; a part of a chosen phrase adds
        # something only when it also stands, without it, in as many texts as a phrase needs.
        alone = mine.texts[key].difference(*(mine.texts[other] for other in related))
        if all(
            _contains(key, other) or (_contains(other, key) and len(alone) >= needed)
            for other in related
        ):
            chosen.append(key)
    return [_spelling(mine.spellings[key]) for key in chosen]


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    return any(
        longer[i : i + len(shorter)] == shorter for i in range(len(longer) - len(shorter) + 1)
    )


def _spelling(spellings: Counter[str]) -> str:
    """The most common way users wrote a phrase (the shorter, then alphabetical, on a tie)."""
    return min(spellings.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]
