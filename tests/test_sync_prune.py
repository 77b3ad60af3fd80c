"""`sync` never empties most of the index by accident (issue 10 item 12); `--prune` means it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.errors import KnowledgeBaseError
from bot.index.sync import sync_index
from bot.knowledge.repository import load_knowledge_base
from tests.support.index import HashingEmbedder
from tests.support.kb import pattern_data, policy_data


def _repo(factory: Callable[..., Path]) -> Path:
    return factory(
        patterns=[pattern_data(f"p{n}") for n in range(6)],
        policies=[policy_data(f"r{n}") for n in range(4)],
    )


def _remove(root: Path, *relative: str) -> None:
    for name in relative:
        (root / name).unlink()


def test_removing_more_than_half_is_refused_without_prune(
    kb_repo_factory: Callable[..., Path], index_factory: Any
) -> None:
    root = _repo(kb_repo_factory)
    index = index_factory(root)
    embedder = HashingEmbedder()
    sync_index(index, embedder, load_knowledge_base(root))
    _remove(root, *[f"patterns/p{n}.yaml" for n in range(6)])

    with pytest.raises(KnowledgeBaseError) as refused:
        sync_index(index, embedder, load_knowledge_base(root))

    assert str(refused.value) == (
        "sync would remove 6 of the 10 items in the index (more than half): "
        "p0, p1, p2, p3, p4, p5; nothing was changed. If the knowledge base really shrank, "
        "run `patternbot sync --prune`; if not, check paths in patternbot.yaml and --repo"
    )
    assert sorted(index.payloads("pattern")) == [f"p{n}" for n in range(6)]
    report = sync_index(index, embedder, load_knowledge_base(root), prune=True)
    assert (report.removed, report.unchanged) == (6, 4)


def test_removing_every_item_is_refused_even_from_a_small_index(
    kb_repo_factory: Callable[..., Path], index_factory: Any
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])
    index = index_factory(root)
    embedder = HashingEmbedder()
    sync_index(index, embedder, load_knowledge_base(root))
    _remove(root, "patterns/web.yaml")

    with pytest.raises(KnowledgeBaseError) as refused:
        sync_index(index, embedder, load_knowledge_base(root))

    assert str(refused.value).startswith(
        "sync would remove 1 of the 1 items in the index (all of them): web; nothing was changed."
    )


def test_removing_half_or_less_needs_no_flag(
    kb_repo_factory: Callable[..., Path], index_factory: Any
) -> None:
    root = _repo(kb_repo_factory)
    index = index_factory(root)
    embedder = HashingEmbedder()
    sync_index(index, embedder, load_knowledge_base(root))
    _remove(root, "patterns/p0.yaml", "patterns/p1.yaml", "policies/r0.yaml", "policies/r1.yaml")
    _remove(root, "patterns/p2.yaml")

    report = sync_index(index, embedder, load_knowledge_base(root))

    assert (report.removed, report.unchanged) == (5, 5)
