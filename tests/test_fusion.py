"""Weighted Reciprocal Rank Fusion: Qdrant's formula, and equal scores ordered by item id."""

from __future__ import annotations

import pytest

from bot.index.fusion import ranked_ids, rrf
from bot.index.store import RRF_K, RRF_WEIGHTS


def test_equal_scores_rank_by_item_id_whatever_order_the_engine_returned() -> None:
    assert ranked_ids([("b", 1.18), ("c", 1.25), ("a", 1.18)]) == ["c", "a", "b"]
    assert ranked_ids([("a", 1.18), ("c", 1.25), ("b", 1.18)]) == ["c", "a", "b"]


def test_the_tuned_weights_give_the_documented_scores() -> None:
    dense = [("d1", 0.9), ("d2", 0.8), ("d3", 0.7), ("d4", 0.6)]
    lexical = [("d3", 5.0), ("d2", 4.0)]
    fused = dict(rrf([dense, lexical], RRF_WEIGHTS, RRF_K))
    # 1 / ((pos + 1) / w + k - 1): dense 1st 0.5, 3rd 0.25; lexical 1st 0.275, 2nd 0.1597.
    assert fused["d1"] == pytest.approx(0.5)
    assert fused["d3"] == pytest.approx(0.25 + 1 / (1 / 0.38 + 1))
    assert fused["d2"] == pytest.approx(1 / 3 + 1 / (2 / 0.38 + 1))
    assert fused["d4"] == pytest.approx(0.2)
    # The lexical top result lifts dense rank 3 above the dense winner; dense 2 + lexical 2 not.
    assert [item for item, _ in rrf([dense, lexical], RRF_WEIGHTS, RRF_K)] == [
        "d3",
        "d1",
        "d2",
        "d4",
    ]


def test_equal_fused_scores_rank_by_item_id() -> None:
    assert rrf([[("b", 1.0)], [("a", 1.0)]], (1.0, 1.0), 2) == [("a", 0.5), ("b", 0.5)]


def test_each_list_needs_a_weight() -> None:
    with pytest.raises(ValueError, match="2 ranked lists but 1 weights"):
        rrf([[("a", 1.0)], [("b", 1.0)]], (1.0,), 2)


def test_a_tie_at_the_cut_off_keeps_the_same_items_whatever_the_engine_returned_first() -> None:
    one_engine = [("d", 0.7), ("c", 0.7000000001), ("a", 0.9), ("b", 0.69999999)]
    other_engine = [("b", 0.7), ("a", 0.9), ("d", 0.7), ("c", 0.7)]
    # Scores equal to 5 significant digits are one tie, ranked by id; the cut keeps a, b.
    assert ranked_ids(one_engine, 2) == ranked_ids(other_engine, 2) == ["a", "b"]
    assert rrf([one_engine], (1.0,), 2, depth=2) == rrf([other_engine], (1.0,), 2, depth=2)
    assert [item for item, _ in rrf([one_engine], (1.0,), 2, depth=2)] == ["a", "b"]
