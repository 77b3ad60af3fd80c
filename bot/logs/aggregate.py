"""Aggregating checked workflow events into a UsageReport with DuckDB.

Input: the temp table `log_lines` (see bot/logs/classify.py). Every number is a pure function of
those lines, the knowledge base and the options; the metric definitions are in docs/metrics.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from bot.knowledge.repository import KnowledgeBase
from bot.logs.events import OutcomeStatus, SettingValue
from bot.logs.redact import redact
from bot.logs.usage import (
    Anomaly,
    ItemUsage,
    PairUsage,
    SettingUsage,
    UsageReport,
    WeakIntent,
    Window,
)


@dataclass(frozen=True)
class AggregationOptions:
    """What to analyse and the thresholds that shape the evidence (from config and the CLI)."""

    since: dt.datetime | None = None  # inclusive, UTC
    until: dt.datetime | None = None  # exclusive, UTC
    cluster: str | None = None
    strong_match_threshold: float = 0.55
    weak_match_threshold: float = 0.5
    max_evidence_intents: int = 500
    max_intent_length: int = 240


@dataclass(frozen=True)
class DuplicateSummary:
    """Valid lines dropped as re-deliveries, and the event ids delivered with different content."""

    duplicates: int
    conflicts: list[str]


# The first delivery of each event id wins, by (ts, file order).
_DEDUPE = """
CREATE OR REPLACE TEMP TABLE ev_all AS
SELECT event_id, workflow_id, type, ts, cluster, intent, patterns, policies, patterns_used,
    policies_applied, kinds, settings, status
FROM log_lines
WHERE reason IS NULL AND NOT blank
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts, rn) = 1
"""

_CONFLICTS = """
SELECT event_id FROM log_lines WHERE reason IS NULL AND NOT blank
GROUP BY event_id HAVING count(DISTINCT content) > 1 ORDER BY event_id
"""

_WORKFLOWS = """
CREATE OR REPLACE TEMP TABLE wf AS
SELECT workflow_id, arg_max_null(cluster, (ts, event_id)) AS cluster FROM ev GROUP BY workflow_id
"""

# The latest event of a type per workflow: greatest ts, then greatest event id.
_LATEST = """
CREATE OR REPLACE TEMP TABLE {name} AS
SELECT * FROM ev_scope WHERE type = '{type}'
QUALIFY row_number() OVER (PARTITION BY workflow_id ORDER BY ts DESC, event_id DESC) = 1
"""

_ITEM_RECOMMENDED = """
WITH rec AS (
    SELECT workflow_id, item.id AS id, max(item.score) AS score
    FROM (SELECT workflow_id, unnest({retrieved}) AS item FROM ev_scope WHERE type = 'retrieved')
    GROUP BY ALL
),
used AS (SELECT DISTINCT workflow_id, unnest({used}) AS id FROM sol)
SELECT rec.id, count(*), count(*) FILTER (WHERE score >= $strong),
    count(used.id) FILTER (WHERE score >= $strong)
FROM rec LEFT JOIN used ON rec.workflow_id = used.workflow_id AND rec.id = used.id
GROUP BY rec.id
"""

_ITEM_USED = """
WITH used AS (SELECT DISTINCT workflow_id, ts, unnest({used}) AS id FROM sol)
SELECT used.id, count(*),
    count(*) FILTER (WHERE o.status = 'deployed'),
    count(*) FILTER (WHERE o.status = 'failed'),
    count(*) FILTER (WHERE o.status = 'abandoned'),
    max(used.ts)
FROM used LEFT JOIN outc o USING (workflow_id)
GROUP BY used.id
"""

_COMMON_ADDITIONS = """
WITH used AS (SELECT DISTINCT workflow_id, unnest(patterns_used) AS id FROM sol),
suggested AS (
    SELECT used.workflow_id, list_distinct(flatten(list(k.suggested))) AS kinds
    FROM used JOIN kb_patterns k USING (id) GROUP BY used.workflow_id
),
added AS (
    SELECT DISTINCT workflow_id, kind FROM (
        SELECT s.workflow_id, unnest(s.kinds) AS kind, coalesce(g.kinds, []) AS suggested
        FROM sol s LEFT JOIN suggested g USING (workflow_id)
    ) WHERE NOT list_contains(suggested, kind)
)
SELECT used.id, added.kind, count(*)
FROM used JOIN added USING (workflow_id) SEMI JOIN kb_patterns k ON k.id = used.id
GROUP BY ALL
"""

_CO_USAGE = """
WITH used AS (
    SELECT DISTINCT workflow_id, unnest(patterns_used) AS id FROM sol
), known AS (SELECT * FROM used SEMI JOIN kb_patterns k ON k.id = used.id)
SELECT x.id, y.id, count(*) AS n
FROM known x JOIN known y ON x.workflow_id = y.workflow_id AND x.id < y.id
GROUP BY ALL ORDER BY n DESC, x.id, y.id
"""

_DEPLOYED = """
CREATE OR REPLACE TEMP TABLE deployed AS
SELECT sol.* FROM sol JOIN outc USING (workflow_id) WHERE outc.status = 'deployed'
"""

_SETTINGS = """
WITH entries AS (
    SELECT workflow_id, kinds,
        unnest(map_entries(CAST(settings::JSON AS MAP(VARCHAR, JSON)))) AS e
    FROM deployed WHERE settings IS NOT NULL
),
pairs AS (SELECT DISTINCT workflow_id, e.key AS path, e.value::VARCHAR AS value, kinds FROM entries)
SELECT path, value, NULL AS kind, count(*) FROM pairs GROUP BY ALL
UNION ALL
SELECT path, value, kind, count(DISTINCT workflow_id)
FROM (SELECT workflow_id, path, value, unnest(kinds) AS kind FROM pairs) GROUP BY ALL
"""

_WEAK = """
WITH r AS (
    SELECT * FROM ev_scope WHERE type = 'retrieved'
    QUALIFY row_number() OVER (PARTITION BY workflow_id ORDER BY ts DESC, event_id DESC) = 1
),
weak AS (
    SELECT * FROM r
    WHERE len(patterns) = 0 OR list_max(list_transform(patterns, lambda p: p.score)) < $weak
)
SELECT weak.workflow_id, weak.intent, weak.patterns, list_sort(list_distinct(sol.kinds)),
    outc.status, wf.cluster, weak.ts
FROM weak
LEFT JOIN sol USING (workflow_id) LEFT JOIN outc USING (workflow_id)
LEFT JOIN wf USING (workflow_id)
ORDER BY weak.ts DESC, weak.workflow_id
LIMIT $limit
"""

_WEAK_TOTAL = """
WITH r AS (
    SELECT * FROM ev_scope WHERE type = 'retrieved'
    QUALIFY row_number() OVER (PARTITION BY workflow_id ORDER BY ts DESC, event_id DESC) = 1
)
SELECT count(*) FROM r
WHERE len(patterns) = 0 OR list_max(list_transform(patterns, lambda p: p.score)) < $weak
"""

_UNKNOWN = """
WITH named AS (
    SELECT workflow_id, unnest(list_transform({retrieved}, lambda i: i.id)) AS id
    FROM ev_scope WHERE type = 'retrieved'
    UNION ALL
    SELECT workflow_id, unnest({used}) AS id FROM ev_scope WHERE type = 'solution'
)
SELECT id, count(DISTINCT workflow_id), min(workflow_id)
FROM named ANTI JOIN {table} k ON k.id = named.id
GROUP BY id
"""

_USED_WITHOUT_RETRIEVAL = """
WITH used AS (SELECT DISTINCT workflow_id, unnest(patterns_used) AS id FROM sol),
listed AS (
    SELECT DISTINCT workflow_id, unnest(list_transform(patterns, lambda i: i.id)) AS id
    FROM ev_scope WHERE type = 'retrieved'
)
SELECT used.id, count(*), min(used.workflow_id)
FROM used SEMI JOIN kb_patterns k ON k.id = used.id
ANTI JOIN listed ON listed.workflow_id = used.workflow_id AND listed.id = used.id
GROUP BY used.id
"""

_TOTALS = """
SELECT count(*), count(DISTINCT workflow_id), min(ts), max(ts),
    (SELECT count(*) FROM sol), (SELECT count(*) FROM deployed)
FROM ev_scope
"""


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None else None


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _load_kb(con: duckdb.DuckDBPyConnection, kb: KnowledgeBase) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE kb_patterns (id VARCHAR, suggested VARCHAR[])")
    con.execute("CREATE OR REPLACE TEMP TABLE kb_policies (id VARCHAR)")
    if kb.patterns:
        con.executemany(
            "INSERT INTO kb_patterns VALUES (?, ?)",
            [(p.id, list(p.suggested_resources)) for p in kb.patterns.values()],
        )
    if kb.policies:
        con.executemany("INSERT INTO kb_policies VALUES (?)", [(i,) for i in kb.policies])


def deduplicate(con: duckdb.DuckDBPyConnection) -> DuplicateSummary:
    """Keep the first delivery of each event id (table ev_all); count the others."""
    con.execute(_DEDUPE)
    valid = _scalar(con, "SELECT count(*) FROM log_lines WHERE reason IS NULL AND NOT blank")
    kept = _scalar(con, "SELECT count(*) FROM ev_all")
    conflicts = [str(row[0]) for row in con.execute(_CONFLICTS).fetchall()]
    return DuplicateSummary(duplicates=valid - kept, conflicts=conflicts)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _filter_window(con: duckdb.DuckDBPyConnection, options: AggregationOptions) -> None:
    conditions = ["true"]
    params: list[Any] = []
    if options.since is not None:
        conditions.append("ts >= ?")
        params.append(_naive(options.since))
    if options.until is not None:
        conditions.append("ts < ?")
        params.append(_naive(options.until))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE ev AS SELECT * FROM ev_all WHERE {' AND '.join(conditions)}",
        params,
    )
    con.execute(_WORKFLOWS)


def _scope(con: duckdb.DuckDBPyConnection, cluster: str | None) -> None:
    if cluster is None:
        con.execute("CREATE OR REPLACE TEMP VIEW ev_scope AS SELECT * FROM ev")
    else:
        quoted = "'" + cluster.replace("'", "''") + "'"
        con.execute(
            "CREATE OR REPLACE TEMP VIEW ev_scope AS SELECT * FROM ev SEMI JOIN "
            f"(SELECT workflow_id FROM wf WHERE cluster = {quoted}) w USING (workflow_id)"
        )
    con.execute(_LATEST.format(name="sol", type="solution"))
    con.execute(_LATEST.format(name="outc", type="outcome"))
    con.execute(_DEPLOYED)


def _items(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], retrieved: str, used: str, strong: float
) -> dict[str, ItemUsage]:
    items = {item_id: ItemUsage() for item_id in sorted(ids)}
    sql = _ITEM_RECOMMENDED.format(retrieved=retrieved, used=used)
    for item_id, recommended, strong_n, strong_used in con.execute(
        sql, {"strong": strong}
    ).fetchall():
        if item_id in items:
            item = items[item_id]
            item.times_recommended = int(recommended)
            item.strong_recommendations = int(strong_n)
            item.strong_recommendations_used = int(strong_used)
    for item_id, times, deployed, failed, abandoned, last in con.execute(
        _ITEM_USED.format(used=used)
    ).fetchall():
        if item_id in items:
            item = items[item_id]
            item.times_used = int(times)
            item.deployed, item.failed, item.abandoned = int(deployed), int(failed), int(abandoned)
            decided = item.deployed + item.failed
            item.success_rate = item.deployed / decided if decided else None
            item.last_used = _utc(last)
    return items


def _setting_value(text: str | None) -> SettingValue:
    value: SettingValue = None if text is None else json.loads(text)
    return value


def _settings(con: duckdb.DuckDBPyConnection) -> list[SettingUsage]:
    found: dict[tuple[str, str | None], SettingUsage] = {}
    kinds: dict[tuple[str, str | None], dict[str, int]] = defaultdict(dict)
    for path, value, kind, count in con.execute(_SETTINGS).fetchall():
        key = (str(path), value)
        if kind is None:
            found[key] = SettingUsage(
                path=str(path), value=_setting_value(value), deployed_workflows=int(count)
            )
        else:
            kinds[key][str(kind)] = int(count)
    for key, usage in found.items():
        usage.kinds = dict(sorted(kinds[key].items()))
    return sorted(
        found.values(), key=lambda s: (-s.deployed_workflows, s.path, json.dumps(s.value))
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _best(patterns: list[dict[str, Any]]) -> tuple[str | None, float | None]:
    if not patterns:
        return None, None
    best = min(patterns, key=lambda p: (-float(p["score"]), str(p["id"])))
    return str(best["id"]), float(best["score"])


def _weak_intents(
    con: duckdb.DuckDBPyConnection, options: AggregationOptions
) -> tuple[list[WeakIntent], int]:
    params = {"weak": options.weak_match_threshold}
    total = con.execute(_WEAK_TOTAL, params).fetchall()[0][0]
    rows = con.execute(_WEAK, {**params, "limit": options.max_evidence_intents}).fetchall()
    intents = []
    for workflow_id, intent, patterns, kinds, status, cluster, ts in rows:
        best_id, best_score = _best(patterns or [])
        status_value: OutcomeStatus | None = status
        intents.append(
            WeakIntent(
                workflow_id=workflow_id,
                intent=_shorten(redact(intent or ""), options.max_intent_length),
                best_pattern=best_id,
                best_score=best_score,
                kinds=[str(k) for k in kinds or []],
                status=status_value,
                cluster=cluster,
                ts=_utc(ts) or dt.datetime.min.replace(tzinfo=dt.UTC),
            )
        )
    return intents, int(total)


def _anomalies(con: duckdb.DuckDBPyConnection) -> list[Anomaly]:
    found: list[Anomaly] = []
    for kind, table, retrieved, used in (
        ("unknown_pattern", "kb_patterns", "patterns", "patterns_used"),
        ("unknown_policy", "kb_policies", "policies", "policies_applied"),
    ):
        sql = _UNKNOWN.format(retrieved=retrieved, used=used, table=table)
        for item_id, workflows, example in con.execute(sql).fetchall():
            found.append(
                Anomaly(kind=kind, id=item_id, workflows=int(workflows), example_workflow=example)  # type: ignore[arg-type]
            )
    for item_id, workflows, example in con.execute(_USED_WITHOUT_RETRIEVAL).fetchall():
        found.append(
            Anomaly(
                kind="used_without_retrieval",
                id=item_id,
                workflows=int(workflows),
                example_workflow=example,
            )
        )
    return sorted(found, key=lambda a: (a.kind, -a.workflows, a.id))


def _report(
    con: duckdb.DuckDBPyConnection,
    kb: KnowledgeBase,
    options: AggregationOptions,
    cluster: str | None,
) -> UsageReport:
    _scope(con, cluster)
    strong = options.strong_match_threshold
    patterns = _items(con, list(kb.patterns), "patterns", "patterns_used", strong)
    policies = _items(con, list(kb.policies), "policies", "policies_applied", strong)
    additions: dict[str, dict[str, int]] = defaultdict(dict)
    for item_id, kind, count in con.execute(_COMMON_ADDITIONS).fetchall():
        additions[item_id][kind] = int(count)
    for item_id, kinds in additions.items():
        patterns[item_id].common_additions = dict(
            sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        )
    co_usage = [
        PairUsage(a=a, b=b, workflows=int(n)) for a, b, n in con.execute(_CO_USAGE).fetchall()
    ]
    weak, weak_total = _weak_intents(con, options)
    row = con.execute(_TOTALS).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    events, workflows, start, end, with_solution, deployed = row
    return UsageReport(
        window=Window(start=_utc(start), end=_utc(end)),
        events=int(events),
        workflows=int(workflows),
        workflows_with_solution=int(with_solution),
        deployed_solutions=int(deployed),
        patterns=patterns,
        policies=policies,
        co_usage=co_usage,
        settings=_settings(con),
        weak_intents=weak,
        weak_intents_total=weak_total,
        anomalies=_anomalies(con),
    )


def aggregate_usage(
    con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, options: AggregationOptions
) -> UsageReport:
    """The usage report of the deduplicated events in `ev_all`, filtered by `options`.

    Includes one breakdown per cluster (by the cluster of each workflow's latest event).
    """
    _load_kb(con, kb)
    _filter_window(con, options)
    clusters_sql = "SELECT DISTINCT cluster FROM wf WHERE cluster IS NOT NULL"
    params: list[Any] = []
    if options.cluster is not None:
        clusters_sql += " AND cluster = ?"
        params.append(options.cluster)
    names = sorted(str(row[0]) for row in con.execute(clusters_sql, params).fetchall())
    report = _report(con, kb, options, options.cluster)
    report.clusters = {name: _report(con, kb, options, name) for name in names}
    return report
