"""The warm Python API: load the settings, the embedding model and the index once, recommend often.

A workflow tool that recommends many times should not start a process per intent (each cold
`patternbot recommend` pays for Python, the model and the index again):

    from bot.api import Recommender

    with Recommender("path/to/knowledge-base") as recommender:
        result = recommender.recommend("run postgres with backups", log="logs/workflows.jsonl")
        print(result.workflow_id, [m.id for m in result.retrieval.patterns])

`recommend` returns exactly what `patternbot recommend --json` prints (`to_data()`), and with
`log=` appends the same `retrieved` event as `recommend --log`. The embedded index folder stays
locked while the Recommender is open (one process at a time writes it; `patternbot sync` waits
for `close()`); with `QDRANT_URL` any number of processes share a server.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from bot.config_snapshot import RecommendSettings, load_recommend_settings
from bot.index.embeddings import Embedder, load_embedder
from bot.index.retrieval import Retrieval, require_index, retrieve
from bot.index.store import Index, open_index
from bot.logs.append import WorkflowName, append_line, new_workflow_id, retrieved_line

if TYPE_CHECKING:
    from bot.config import Config


@dataclass(frozen=True)
class Recommendation:
    """One answer: what retrieval found, and the workflow id when it was logged."""

    retrieval: Retrieval
    workflow_id: str | None = None

    def to_data(self) -> dict[str, Any]:
        """The JSON `patternbot recommend --json` prints."""
        data = self.retrieval.to_data()
        if self.workflow_id:
            data["workflowId"] = self.workflow_id
        return data


class Recommender:
    """Answers many recommend calls from one loaded model and one open index."""

    def __init__(
        self,
        repo: Path | str = ".",
        *,
        config: Config | None = None,
        embedder: Embedder | None = None,
        quick_start: bool = False,
    ) -> None:
        """Open the repository's index (IndexUnavailableError when it was never synced).

        The settings are `config`'s, or read from `repo` (bot/config_snapshot.py: without
        pydantic when they have not changed since they were last validated). The model loads on
        the first call. `quick_start` skips graph optimisation: for a process that answers one
        intent and exits (the CLI); leave it off for a warm process.
        """
        self._config = config
        if config is not None:
            self.settings = RecommendSettings.of(config)
        else:
            self.settings = load_recommend_settings(Path(repo))
        self._stack = contextlib.ExitStack()
        self.index: Index = self._stack.enter_context(open_index(self.settings))
        try:
            # Checked before loading the model, so an empty index fails fast.
            require_index(self.index)
        except BaseException:
            self._stack.close()
            raise
        self.embedder = (
            embedder
            if embedder is not None
            else load_embedder(
                self.settings.embedding,
                quick_start=quick_start,
                verified_record=self.settings.model_record,
            )
        )

    @property
    def config(self) -> Config:
        """The whole validated configuration: `config` as given, or validated from the repository
        on first use (a recommend itself reads only `settings`)."""
        if self._config is None:
            from bot.config import load_config

            self._config = load_config(self.settings.root)
        return self._config

    def recommend(
        self,
        intent: str,
        limit: int | None = None,
        *,
        log: Path | str | None = None,
        workflow_id: str | None = None,
        workflow: WorkflowName = "recommend",
        cluster: str | None = None,
    ) -> Recommendation:
        """The best patterns and policies for `intent` (limit: retrieval.limit by default).

        With `log`, one `retrieved` event is appended to that workflow log, under `workflow_id`
        (a new one when not given), as `patternbot recommend --log` does.
        """
        retrieval = retrieve(
            self.index,
            self.embedder,
            intent,
            limit if limit is not None else self.settings.limit,
            include_deprecated=self.settings.include_deprecated,
        )
        if log is None:
            return Recommendation(retrieval)
        # Written without the event models: a cold `recommend --log` would spend more on
        # loading pydantic than on the rest of its start (bot/logs/append.py).
        logged_id = workflow_id or new_workflow_id()
        line = retrieved_line(
            logged_id,
            retrieval.intent,
            [(m.id, m.score) for m in retrieval.patterns],
            [(m.id, m.score) for m in retrieval.policies],
            workflow=workflow,
            cluster=cluster,
        )
        append_line(Path(log), line)
        return Recommendation(retrieval, logged_id)

    def close(self) -> None:
        """Release the index (and the embedded folder's lock)."""
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
