"""Reading the evaluation corpus at run time (never copied into the repository).

The folder is `PATTERNBOT_CORPUS` when set, else ../shared/corpus beside the repository
(see its README.md). Worlds built from it raise `CorpusMissing` when it is absent, so tests can
skip with the reason.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from bot.knowledge.kinds import KNOWN_KINDS

# The shared folder sits beside the repository (`../shared/corpus`), in development and in CI.
DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CORPUS_ENV = "PATTERNBOT_CORPUS"

# Kinds a pattern made from a chart keeps: its workloads and their direct companions. The house
# extras every bitnami chart renders (NetworkPolicy, PodDisruptionBudget, ServiceAccount, RBAC)
# are left out, so that users adding them is something the logs can show.
CORE_KINDS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "CronJob",
        "Job",
        "Service",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
    }
)
# Keywords that say nothing about what a chart is for.
_VAGUE_KEYWORDS = frozenset(
    {"http", "https", "www", "web", "application", "apache", "cluster", "library", "php", "go"}
)


class CorpusMissing(Exception):
    """The corpus folder or one of its files is not there."""


def corpus_dir(path: Path | None = None) -> Path:
    """The corpus folder: `path`, else $PATTERNBOT_CORPUS, else the shared default."""
    folder = path or Path(os.environ.get(CORPUS_ENV) or DEFAULT_CORPUS)
    if not (folder / "charts.jsonl").is_file():
        raise CorpusMissing(f"the evaluation corpus is not at {folder} (set {CORPUS_ENV})")
    return folder


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise CorpusMissing(f"{path} is missing")
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def charts(folder: Path) -> dict[str, dict[str, Any]]:
    """charts.jsonl by chart name (the first record of a name wins)."""
    found: dict[str, dict[str, Any]] = {}
    for record in read_jsonl(folder / "charts.jsonl"):
        found.setdefault(str(record["chart"]), record)
    return found


def kyverno_policies(folder: Path) -> dict[str, dict[str, Any]]:
    """kyverno_policies.jsonl by name, the classic flavour first (not -cel, -vpol, -mpol)."""
    found: dict[str, dict[str, Any]] = {}
    records = read_jsonl(folder / "kyverno_policies.jsonl")
    preferred = ("best-practices", "pod-security", "other")
    records.sort(
        key=lambda r: (
            r.get("folder") not in preferred,
            "-" in str(r.get("folder")),
            str(r.get("path")),
        )
    )
    for record in records:
        found.setdefault(str(record.get("name")), record)
    return found


def dotai_policy_intents(folder: Path) -> list[dict[str, Any]]:
    """The policy intents of dotai_examples.jsonl, in file order."""
    return [
        r
        for r in read_jsonl(folder / "dotai_examples.jsonl")
        if r.get("record_type") == "policy_intent"
    ]


def first_sentence(text: str, limit: int = 160) -> str:
    sentence = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0].rstrip(".")
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0]
    return sentence


def what_it_is(description: str, limit_words: int = 10) -> str:
    """The noun phrase after 'X is' in a chart description ('a distributed streaming ...')."""
    sentence = first_sentence(description)
    match = re.search(r"\b(?:is|are|provides|collects)\b\s+(.*)", sentence)
    phrase = match.group(1) if match else sentence
    words = phrase.split()[:limit_words]
    return " ".join(words).rstrip(",;:")


def informative_keywords(record: dict[str, Any]) -> list[str]:
    name = str(record["chart"])
    words = [str(k).strip() for k in record.get("keywords") or []]
    kept = [w for w in words if w and w.lower() not in _VAGUE_KEYWORDS and w.lower() != name]
    return list(dict.fromkeys(kept))


def core_kinds(record: dict[str, Any]) -> list[str]:
    """What a pattern made from the chart suggests: its default-on core kinds, in a fixed order."""
    default_on = set(record.get("kinds_default_on") or []) | set(
        record.get("kinds_unconditional") or []
    )
    order = [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "CronJob",
        "Job",
        "Service",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
    ]
    kinds = [kind for kind in order if kind in default_on and kind in CORE_KINDS]
    if not WORKLOADS.intersection(kinds):
        kinds.insert(0, "Deployment")
    return kinds


WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"})


def valid_kinds(kinds: list[str]) -> list[str]:
    return [kind for kind in dict.fromkeys(k.strip() for k in kinds) if kind in KNOWN_KINDS]
