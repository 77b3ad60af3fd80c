"""Gaps, issue 8 failure 2: drafts are named in users' words, so retrieval finds them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.index.embeddings import MiniLMOnnxEmbedder
from bot.index.retrieval import retrieve
from bot.index.store import Index
from bot.index.sync import sync_index
from bot.knowledge.repository import KnowledgeBase, load_knowledge_base
from bot.knowledge.schema import is_valid_id
from bot.learning.drafts import item_data
from bot.learning.engine import suggest
from bot.learning.gaps import draft_id, draft_triggers
from bot.learning.history import InMemoryDecisionHistory
from bot.learning.phrases import clean_words, topic_phrases
from bot.learning.suggestion import Suggestion
from bot.logs.usage import WeakIntent
from tests.support.gaps import (
    BACKUP_KINDS,
    BROKER_KINDS,
    backup_family,
    broker_family,
    other_topics,
    weak,
    weak_report,
)
from tests.support.kb import make_kb_repo
from tests.support.learning import learning_config, standard_kb

# Requests of the same families, worded as none of the logged ones.
HELD_OUT = {
    "backup": [
        "nightly backup of the hr database",
        "take snapshots of the git server volumes",
        "weekly dumps of the metrics tables",
        "we need backups for the ledger",
        "snapshot the search index every day",
    ],
    "broker": [
        "a message queue for email jobs",
        "stream telemetry events to several consumers",
        "kafka for the notification pipeline",
        "a broker between the billing services",
        "durable event log for the ledger",
    ],
}


def _gap_drafts(
    kb: KnowledgeBase, intents: list[WeakIntent], minilm: MiniLMOnnxEmbedder
) -> list[Suggestion]:
    run = suggest(
        learning_config(),
        kb,
        weak_report(intents),
        embedder=minilm,
        index=None,
        history=InMemoryDecisionHistory(),
    )
    return run.suggestions


def _draft_for(suggestions: list[Suggestion], kinds: tuple[str, ...]) -> dict[str, object]:
    [suggestion] = [s for s in suggestions if set(s.draft["suggestedResources"]) == set(kinds)]
    return suggestion.draft


def test_backup_requests_in_four_words_are_named_by_their_stems(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    # "backup", "backups", "dumps", "snapshots": no exact word is in 30% of the requests.
    suggestions = _gap_drafts(standard_kb(tmp_path), backup_family() + other_topics(), minilm)
    draft = _draft_for(suggestions, BACKUP_KINDS)
    assert draft["id"] == "backup"
    assert draft["triggers"] == ["backup", "dumps", "snapshots"]
    assert draft["description"] == (
        "Backup workloads: CronJob, PersistentVolumeClaim and Secret, "
        "for requests about backup, dumps or snapshots"
    )
    # Kind names name no topic: they are never triggers when the requests share topic words.
    assert not {"cronjob", "secret", "persistentvolumeclaim"} & set(
        " ".join(draft["triggers"]).split()
    )


@pytest.mark.parametrize(("family", "kinds"), [("backup", BACKUP_KINDS), ("broker", BROKER_KINDS)])
def test_the_drafted_pattern_comes_first_for_held_out_requests_of_its_family(
    tmp_path: Path,
    minilm: MiniLMOnnxEmbedder,
    index_factory: Callable[[Path], Index],
    family: str,
    kinds: tuple[str, ...],
) -> None:
    kb = standard_kb(tmp_path)
    logged = backup_family() if family == "backup" else broker_family()
    draft = _draft_for(_gap_drafts(kb, logged + other_topics(), minilm), kinds)
    # The knowledge base as a reviewer would merge it: today's patterns plus the draft.
    root = make_kb_repo(
        tmp_path / "merged",
        [*(item_data(p) for p in kb.patterns.values()), draft],
        [item_data(p) for p in kb.policies.values()],
    )
    index = index_factory(root)
    sync_index(index, minilm, load_knowledge_base(root))

    first = [retrieve(index, minilm, intent, 3).patterns[0].id for intent in HELD_OUT[family]]

    assert first == [draft["id"]] * len(HELD_OUT[family])


def test_links_markup_and_mentions_in_requests_never_reach_the_draft(
    tmp_path: Path, minilm: MiniLMOnnxEmbedder
) -> None:
    hostile = [
        "docs https://evil.example.com/pwn for the {s} wiki site",
        "docs site for {s}, see [here](http://evil.example.net) @mallory",
        "a {s} wiki site with docs <script>alert(1)</script> #1234",
        "host {s} docs on evil.example.org/x as a wiki site",
    ]
    subjects = ["billing", "search", "crm", "mail"]
    intents = [
        weak(
            i,
            hostile[i % 4].format(s=subjects[(i * 3) % 4]),
            ["ConfigMap", "Deployment", "Ingress"],
        )
        for i in range(16)
    ]
    [suggestion] = _gap_drafts(standard_kb(tmp_path), intents, minilm)
    draft = suggestion.draft
    assert draft["id"] == "wiki-site"
    assert draft["triggers"] == ["wiki site", "docs"]
    drafted = " ".join([str(draft["id"]), str(draft["description"]), *draft["triggers"]])
    for word in ("http", "evil", "example", "mallory", "script", "alert", "1234", "pwn"):
        assert word not in drafted


def test_clean_words_drops_links_markup_mentions_and_hosts() -> None:
    text = (
        "Nightly BACKUPS, see https://evil.example.com/a?b=c and [docs](http://x.io) "
        "![img](y.png) @ops #42 <redacted> `rm -rf` evil.example.org/path mail a@b.co /etc/passwd"
    )
    assert clean_words(text) == ["nightly", "backups", "see", "and", "mail"]


def test_topic_phrases_count_stems_and_keep_subjects_out() -> None:
    texts = [
        "nightly backups of billing",
        "a backup of orders",
        "backups for payroll",
        "keep backups of tickets",
        "a backup for the wiki",
        "backups of mail",
        "backup the crm",
        "backups of search",
        "backup billing volumes",
        "dumps of crm tables",
        "dump wiki tables",
        "dumps of search",
    ]
    # Nine texts say backup (two spellings), three say dump; the subjects ("billing", "wiki")
    # and "tables" recur twice, under a third as often as the leading phrase.
    assert topic_phrases(texts) == ["backups", "dumps"]
    # A phrase as common among the other weak requests names no topic of this group.
    assert topic_phrases(texts, others=["dump the logs", "dumps of the cache"]) == ["backups"]


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        (["message broker", "queue"], "message-broker"),
        (["backup", "dumps"], "backup"),
        (["https evil"], "https-evil"),
        (["x" * 80], "x" * 40),
        (["very long words", "that go on"], "very-long-words"),
        (["a" * 30 + " " + "b" * 30], "a" * 30),
    ],
)
def test_drafted_ids_are_valid_and_bounded(triggers: list[str], expected: str) -> None:
    taken: set[str] = set()
    made = draft_id(triggers, taken)
    assert made == expected
    assert is_valid_id(made) and len(made) <= 40
    assert draft_id(triggers, taken) == f"{expected}-2"


def test_requests_sharing_no_word_are_named_by_their_most_frequent_request() -> None:
    texts = [
        "ci runners for the build team",
        "continuous integration workers",
        "continuous integration workers",
        "set up pipeline agents in staging",
    ]
    # Two topic words of the most frequent request, never the whole of it, and no kind names.
    assert draft_triggers(texts[:1] + texts[2:], [], ["Deployment"]) == ["ci runners"]
    assert draft_triggers(texts, ["continuous integration workers"] * 3, ["Deployment"]) == [
        "continuous integration"
    ]
    assert draft_triggers(["https://x.io @bot"], [], ["Deployment", "Secret"]) == [
        "deployment secret"
    ]
