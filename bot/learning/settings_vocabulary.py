"""The Kubernetes settings that policies govern: what a setting path means, in words.

The vocabulary is package data (`bot/resources/settings-vocabulary.json`): for each setting
(seccomp profile, run as non-root, CPU limits, readiness probe...) the path segments it covers and
the words policy authors use for it, plus families of settings that one word names together
("probes", "resource limits", the Pod Security Standards).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from bot.learning.terms import Phrase

VOCABULARY_FILE = "settings-vocabulary.json"
_INDEX = re.compile(r"\[[^\]]*\]")


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class SettingEntry(_Model):
    """One setting policies govern, the paths it covers and the words used for it."""

    id: str
    name: str  # in words, for drafts: "seccomp profile"
    paths: list[str] = Field(min_length=1)  # camelCase segments in order: "resources.limits.cpu"
    terms: list[str] = Field(min_length=1)
    # True when "is set, whatever the value" is a convention worth a policy (limits, probes).
    presence: bool = False
    # True when the path continues with a key that is part of the meaning (a label's name).
    keyed: bool = False
    kinds: list[str] | None = None  # the kinds it can apply to, when narrower than pod workloads
    require_true: str | None = None  # "run as a non-root user": what a policy requiring true says
    require_false: str | None = None
    require_present: str | None = None


class SettingFamily(_Model):
    """Settings one word names together ("probes"); narrowed when a policy names members."""

    id: str
    members: list[str] = Field(min_length=1)
    terms: list[str] = Field(min_length=1)
    narrowed_by_members: bool


class _Document(_Model):
    about: str
    settings: list[SettingEntry]
    families: list[SettingFamily]


@dataclass(frozen=True)
class SettingMeaning:
    """What one setting path means: the vocabulary entry and, for keyed settings, the key."""

    entry: SettingEntry
    key: str | None = None

    @property
    def id(self) -> str:
        return self.entry.id if self.key is None else f"{self.entry.id}:{self.key}"

    @property
    def name(self) -> str:
        """`seccomp profile`, or `team label` for the label key `team`."""
        if self.key is None:
            return self.entry.name
        return f"{self.key} {self.entry.name.rstrip('s')}"


def path_segments(path: str) -> list[str]:
    """`spec.template.spec.containers[0].resources.limits.memory` -> its segments, lower-cased,
    list indices (`[0]`, `[]`, `[*]`) dropped."""
    return [part.lower() for part in _INDEX.sub("", path).split(".") if part]


class Vocabulary:
    """The settings and families, with their terms stemmed once."""

    def __init__(self, settings: list[SettingEntry], families: list[SettingFamily]) -> None:
        self.settings = {entry.id: entry for entry in settings}
        self.families = families
        unknown = {m for f in families for m in f.members} - set(self.settings)
        if unknown or len(self.settings) != len(settings):
            raise ValueError(f"settings vocabulary: unknown or repeated ids {sorted(unknown)}")
        phrases = {entry.id: [Phrase.of(term) for term in entry.terms] for entry in settings}
        # The last word of every multi-word term closes a phrase: a gap inside another setting's
        # term may not skip it (family terms are broad on purpose and have no barriers).
        closing = {p.words[-1] for terms in phrases.values() for p in terms if len(p.words) > 1}
        self.setting_terms = {
            setting_id: [
                dataclasses.replace(p, barriers=frozenset(closing - set(p.words))) for p in terms
            ]
            for setting_id, terms in phrases.items()
        }
        self.family_terms = {family.id: [Phrase.of(t) for t in family.terms] for family in families}
        # Longest path pattern first, so `capabilities.drop` wins over a shorter one.
        self._paths = sorted(
            ((path.lower().split("."), entry) for entry in settings for path in entry.paths),
            key=lambda item: -len(item[0]),
        )

    def meaning_of(self, path: str) -> SettingMeaning | None:
        """The setting a path sets, or None when the vocabulary does not know it."""
        segments = path_segments(path)
        for pattern, entry in self._paths:
            size = len(pattern)
            for start in range(len(segments) - size + 1):
                if segments[start : start + size] == pattern:
                    key = None
                    if entry.keyed:
                        # Label keys hold dots (app.kubernetes.io/name): take the raw rest.
                        rest = segments[start + size :]
                        key = ".".join(rest) if rest else None
                    return SettingMeaning(entry, key)
        return None


@functools.cache
def load_vocabulary() -> Vocabulary:
    """The vocabulary shipped in the package (read once per process)."""
    text = resources.files("bot").joinpath("resources").joinpath(VOCABULARY_FILE).read_text("utf-8")
    document = _Document.model_validate(json.loads(text))
    return Vocabulary(document.settings, document.families)
