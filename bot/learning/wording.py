"""Deterministic wording for drafts: slugs, phrases from intents, readable setting names."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from bot.knowledge.schema import ID_MAX_LENGTH

# Words that say nothing about what is deployed; never a trigger on their own.
STOPWORDS = frozenset(
    """
    a an and any app application applications are as at be but by can could deploy deployed
    deploying deployment do does for from get give go have help how i i'd i'm in into is it its
    just let like make me my need needs new of on one or our please run running set setup so some
    that the their them then there these this to up us use using want we with would you your
    redacted thing stuff something create creating service services k8s kubernetes cluster
    team teams
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def words_of(text: str) -> list[str]:
    """Lower-case words of a text, placeholders like <redacted> and numbers left out."""
    return _WORD.findall(re.sub(r"<[^>]*>", " ", text.lower()))


def slugify(text: str, max_words: int = 5) -> str:
    """A file-name-safe id made of the text's first words."""
    parts = [p for p in _SLUG_STRIP.split(text.lower()) if p][:max_words]
    return "-".join(parts) or "item"


def unique_id(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free; the result is added to `taken`.

    Cut to the longest id a file and a branch name may have (bot.knowledge.schema.ID_MAX_LENGTH),
    suffix included.
    """
    candidate, n = base[:ID_MAX_LENGTH].rstrip("-"), 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate = f"{base[: ID_MAX_LENGTH - len(suffix)].rstrip('-')}{suffix}"
        n += 1
    taken.add(candidate)
    return candidate


def informative_phrases(texts: Sequence[str], limit: int = 6, min_share: float = 0.3) -> list[str]:
    """Frequent informative phrases (three, two, then one word) across texts, most frequent first.

    A phrase counts once per text and must occur in at least `min_share` of them (and in two
    texts at least), so no single intent is ever copied whole. A shorter phrase is kept only when
    it is part of a chosen longer one or shares no word with the chosen phrases.
    """
    counts: list[Counter[str]] = [Counter(), Counter(), Counter()]
    for text in texts:
        words = [w for w in words_of(text) if w not in STOPWORDS]
        for size in (1, 2, 3):
            grams = {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
            counts[size - 1].update(g for g in grams if len(set(g.split())) == size)
    needed = max(2, math.ceil(min_share * len(texts)))
    # Longer phrases say more: each extra word weighs half a text, so a bigram shared by 37 texts
    # outranks a word shared by 43, and a trigram needs more than a third of its bigram's texts.
    ranked = sorted(
        ((count * (1 + 0.5 * size), size, phrase) for size in (1, 2, 3)
         for phrase, count in counts[size - 1].items() if count >= needed),
        key=lambda item: (-item[0], -item[1], item[2]),
    )  # fmt: skip
    chosen: list[str] = []
    for _weight, size, phrase in ranked:
        if len(chosen) >= limit:
            break
        own = set(phrase.split())
        inside = any(f" {phrase} " in f" {c} " for c in chosen)
        overlaps = any(own & set(c.split()) for c in chosen)
        if (size > 1 and inside) or not overlaps:
            chosen.append(phrase)
    return chosen


# Path parts that name no concept of their own (`seccompProfile.type`): left out of names.
GENERIC_SETTING_PARTS = frozenset(
    {"spec", "template", "type", "value", "values", "name", "mode", "enabled", "*", "metadata"}
)


def readable_setting(path: str, parts: int = 2) -> str:
    """The last `parts` meaningful parts of a setting path as words: `security context seccomp
    profile` for `spec.template.spec.securityContext.seccompProfile.type`."""
    split = [part for part in re.split(r"[.\[\]/]+", path) if part and not part.isdigit()]
    meaningful = [part for part in split if part.lower() not in GENERIC_SETTING_PARTS]
    tail = (meaningful or split)[-parts:]
    spaced = " ".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", part) for part in tail)
    return re.sub(r"[_\-]+", " ", spaced).lower().strip()


def kinds_phrase(kinds: Iterable[str], conjunction: str = "and") -> str:
    """`A, B and C` (or `A, B or C`)."""
    items = list(kinds)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def percent(frequency: float | None) -> str:
    """0.8 -> `80%`."""
    return "n/a" if frequency is None else f"{round(frequency * 100)}%"
