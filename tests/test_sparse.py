"""BM25-style lexical vectors: exact terms, ids and weights, the same in every process."""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from bot.index.sparse import document_vector, query_vector, term_id, tokenize


def test_tokenize_lowercases_splits_and_drops_stop_words() -> None:
    assert tokenize("Run a PostgreSQL 16 database, with the data on a PVC!") == [
        "run",
        "postgresql",
        "16",
        "database",
        "data",
        "pvc",
    ]


def test_term_ids_are_crc32_masked_to_31_bits() -> None:
    assert term_id("postgres") == zlib.crc32(b"postgres") & 0x7FFFFFFF
    assert term_id("postgres") == 359303029
    assert term_id("cron") == 399311096


def test_document_values_are_saturated_length_normalised_term_frequencies() -> None:
    vector = document_vector("cron job cron")
    # 3 words, average length 40: norm = 1.2 * (0.25 + 0.75 * 3 / 40) = 0.3675
    assert vector.indices == sorted([term_id("cron"), term_id("job")])
    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights[term_id("cron")] == pytest.approx(2 * 2.2 / (2 + 0.3675))
    assert weights[term_id("job")] == pytest.approx(1 * 2.2 / (1 + 0.3675))


def test_query_values_are_one_per_distinct_term() -> None:
    vector = query_vector("the cron job, the cron")
    assert vector.indices == sorted([term_id("cron"), term_id("job")])
    assert vector.values == [1.0, 1.0]


def test_stop_words_only_give_an_empty_vector() -> None:
    assert query_vector("what is the").indices == []


def test_term_ids_are_the_same_in_another_process() -> None:
    code = "from bot.index.sparse import query_vector; print(query_vector('postgres cron').indices)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).parents[1],
    )
    assert done.stdout.strip() == str(query_vector("postgres cron").indices)
    assert done.stdout.strip() == "[359303029, 399311096]"
