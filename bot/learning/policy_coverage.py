"""Which policy already governs a setting, judged by what the setting means.

A policy covers a setting when
1. it declares the setting's path (indices ignored) or a path of the same meaning in `settings`;
2. or its text names the setting: its id, description and triggers, and those sentences of a
   longer description or rationale that state the rule ("This policy ...", "... must ..."),
   contain one of the setting's terms from the vocabulary, or a term of a family the setting
   belongs to. Generic words ("security", "securityContext") are no one's term, so they never
   cover a specific setting; a family term ("probes") covers every member unless the same policy
   names members of that family precisely (then only those).
3. Settings the vocabulary does not know are matched by the words of their own path (`priority
   class` for `priorityClassName`); when a policy shares some of those words but not the phrase,
   embeddings break the tie: covered when the cosine reaches `learning.policyCoverageSimilarity`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from bot.knowledge.schema import Policy
from bot.learning.settings_vocabulary import (
    SettingMeaning,
    Vocabulary,
    load_vocabulary,
    path_segments,
)
from bot.learning.terms import Phrase, contains_phrase, sentences, split_camel, stems

CoverageKind = Literal["declared", "named", "similar"]
Embed = Callable[[Sequence[str]], npt.NDArray[np.float32]]

# Path words that name no setting of their own; never enough to tie a policy to a setting.
GENERIC_WORDS = frozenset(
    stems(
        """spec template metadata container containers init initContainers pod pods security
        context securityContext type value values name mode enabled key item items config
        settings setting policy workload resource resources"""
    )
)
_STATEMENT = re.compile(
    r"\bthis policy\b|\bthese policies\b|\bmust\b|\bdisallowed\b|\brequired to\b|\bis required\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Coverage:
    """The policy that governs a setting and how that was decided."""

    policy: str
    how: CoverageKind
    similarity: float | None = None


def _rule_sentences(text: str) -> list[str]:
    """One sentence counts whole (a title); of a longer text only the sentences stating a rule."""
    parts = sentences(text)
    if len(parts) <= 1:
        return parts
    return [part for part in parts if _STATEMENT.search(part)]


def naming_sentences(policy: Policy) -> list[list[str]]:
    """The stemmed sentences of a policy that say what it governs."""
    texts = [policy.id.replace("-", " "), *policy.triggers]
    texts += _rule_sentences(policy.description)
    texts += [part for part in sentences(policy.rationale) if _STATEMENT.search(part)]
    return [words for text in texts for part in sentences(text) if (words := stems(part))]


@dataclass
class PolicyNames:
    """The settings (vocabulary ids) one policy names, and its stemmed sentences."""

    policy: Policy
    sentences: list[list[str]]
    settings: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)  # normalised paths of its `settings` map
    words: set[str] = field(default_factory=set)  # every stemmed word: a cheap first test

    def __post_init__(self) -> None:
        self.words = {word for sentence in self.sentences for word in sentence}

    def says(self, phrase: Phrase) -> bool:
        if not self.words.issuperset(phrase.words):
            return False
        return any(contains_phrase(words, phrase) for words in self.sentences)


def names_of(policy: Policy, vocabulary: Vocabulary) -> PolicyNames:
    """What a policy names: specific settings, and family members unless narrowed."""
    names = PolicyNames(policy, naming_sentences(policy))
    names.declared = {".".join(path_segments(path)) for path in policy.settings}
    for setting_id, terms in vocabulary.setting_terms.items():
        if any(names.says(term) for term in terms):
            names.settings.add(setting_id)
    specific = set(names.settings)
    for family in vocabulary.families:
        if not any(names.says(term) for term in vocabulary.family_terms[family.id]):
            continue
        named_members = specific & set(family.members)
        if family.narrowed_by_members and named_members:
            continue
        names.settings.update(family.members)
    for path in policy.settings:
        meaning = vocabulary.meaning_of(path)
        if meaning is not None:
            names.settings.add(meaning.entry.id)
    return names


def path_words(path: str) -> list[str]:
    """The stemmed words of a setting path's meaningful segments (`priority class` for
    `spec.template.spec.priorityClassName`), generic ones dropped."""
    words = [w for segment in path_segments_raw(path) for w in stems(split_camel(segment))]
    return [w for w in words if w not in GENERIC_WORDS]


def path_segments_raw(path: str) -> list[str]:
    """Path segments with their case kept (camelCase carries the word boundaries)."""
    return [part for part in re.sub(r"\[[^\]]*\]", "", path).split(".") if part]


class CoverageIndex:
    """The knowledge base's policies, read once, answering "who covers this setting path?"."""

    def __init__(self, policies: dict[str, Policy], vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or load_vocabulary()
        self.names = [names_of(p, self.vocabulary) for _id, p in sorted(policies.items())]

    def meaning_of(self, path: str) -> SettingMeaning | None:
        return self.vocabulary.meaning_of(path)

    def covering(
        self, path: str, embed: Embed | None = None, min_similarity: float = 1.0
    ) -> Coverage | None:
        """The first policy (by id) that covers the setting at `path`, or None."""
        normalised = ".".join(path_segments(path))
        for names in self.names:
            if normalised in names.declared:
                return Coverage(names.policy.id, "declared")
        meaning = self.vocabulary.meaning_of(path)
        if meaning is not None:
            return self._named(meaning)
        return self._by_path_words(path, embed, min_similarity)

    def _named(self, meaning: SettingMeaning) -> Coverage | None:
        key = Phrase.of(meaning.key.replace(".", " ").replace("/", " ")) if meaning.key else None
        for names in self.names:
            if meaning.entry.id not in names.settings:
                continue
            # A keyed setting (the `team` label) needs its key named too: "Require Labels" about
            # app.kubernetes.io/name does not govern a team label.
            if key and not names.says(key):
                continue
            return Coverage(names.policy.id, "named")
        return None

    def _by_path_words(
        self, path: str, embed: Embed | None, min_similarity: float
    ) -> Coverage | None:
        words = path_words(path)
        if not words:
            return None
        phrase = Phrase(tuple(words[-3:]))
        for names in self.names:
            if names.says(phrase):
                return Coverage(names.policy.id, "named")
        # A tie to break: policies sharing a specific word of the path but not its phrase.
        sharing = [n for n in self.names if n.words.intersection(words)]
        if embed is None or not sharing:
            return None
        sentence = " ".join(split_camel(segment) for segment in path_segments_raw(path)[-2:])
        texts = [n.policy.naming_text() for n in sharing]
        scores = embed(texts) @ embed([sentence.lower()])[0]
        best = int(np.argmax(scores))
        score = round(float(scores[best]), 4)
        if score >= min_similarity:
            return Coverage(sharing[best].policy.id, "similar", score)
        return None
