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


# Valid lines; re-deliveries of an event id are dropped below (the first by ts, file order stays).
_VALID = "SELECT * FROM log_lines WHERE reason IS NULL AND NOT blank"

_DUPLICATE_IDS = f"""
CREATE OR REPLACE TEMP TABLE dup_ids AS
SELECT event_id, count(DISTINCT content) > 1 AS conflict
FROM ({_VALID}) GROUP BY event_id HAVING count(*) > 1
"""

_DROPPED = f"""
CREATE OR REPLACE TEMP TABLE dropped AS
SELECT rn FROM ({_VALID}) v SEMI JOIN dup_ids USING (event_id)
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts, rn) > 1
"""

_EVENTS = f"""
CREATE OR REPLACE TEMP VIEW ev AS
SELECT event_id, workflow_id, type, ts, cluster, intent, patterns, policies, patterns_used,
    policies_applied, kinds, settings, status
FROM ({_VALID}) v {{anti_join}}
WHERE {{window}}
"""

# Compact per-workflow tables, each carrying the workflow's cluster (that of its latest event),
# so that every report, overall or per cluster, reads them instead of the events.
_WORKFLOWS = """
CREATE OR REPLACE TEMP TABLE wf AS
SELECT workflow_id, arg_max_null(cluster, (ts, event_id)) AS cluster, count(*) AS events,
    min(ts) AS first_ts, max(ts) AS last_ts
FROM ev GROUP BY workflow_id
"""

# The latest event of a type per workflow: greatest ts, then greatest event id.
_LATEST = """
CREATE OR REPLACE TEMP TABLE {name} AS
SELECT wf.cluster, e.* EXCLUDE (cluster)
FROM (
    SELECT {columns} FROM ev WHERE type = '{type}'
    QUALIFY row_number() OVER (PARTITION BY workflow_id ORDER BY ts DESC, event_id DESC) = 1
) e JOIN wf USING (workflow_id)
"""

_RECOMMENDED_ALL = """
CREATE OR REPLACE TEMP TABLE rec_all AS
SELECT wf.cluster, r.* FROM (
    SELECT workflow_id, kind, item.id AS id, max(item.score) AS score FROM (
        SELECT workflow_id, 'pattern' AS kind, unnest(patterns) AS item
        FROM ev WHERE type = 'retrieved'
        UNION ALL
        SELECT workflow_id, 'policy' AS kind, unnest(policies) AS item
        FROM ev WHERE type = 'retrieved'
    ) GROUP BY ALL
) r JOIN wf USING (workflow_id)
"""

_NAMED_ALL = """
CREATE OR REPLACE TEMP TABLE named_all AS
SELECT wf.cluster, n.* FROM (
    SELECT DISTINCT workflow_id, kind, id FROM (
        SELECT workflow_id, kind, id FROM rec_all
        UNION ALL
        SELECT workflow_id, 'pattern', unnest(patterns_used) FROM ev WHERE type = 'solution'
        UNION ALL
        SELECT workflow_id, 'policy', unnest(policies_applied) FROM ev WHERE type = 'solution'
    )
) n JOIN wf USING (workflow_id)
"""

_ITEM_RECOMMENDED = """
WITH rec AS (SELECT * FROM rec_all WHERE kind = '{kind}' AND {scope}),
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

_SETTINGS = """
WITH entries AS (
    SELECT workflow_id, kinds,
        unnest(map_entries(CAST(settings::JSON AS MAP(VARCHAR, JSON)))) AS e
    FROM sol JOIN outc USING (workflow_id)
    WHERE outc.status = 'deployed' AND settings IS NOT NULL
),
pairs AS (SELECT DISTINCT workflow_id, e.key AS path, e.value::VARCHAR AS value, kinds FROM entries)
SELECT path, value, NULL AS kind, count(*) FROM pairs GROUP BY ALL
UNION ALL
SELECT path, value, kind, count(DISTINCT workflow_id)
FROM (SELECT workflow_id, path, value, unnest(kinds) AS kind FROM pairs) GROUP BY ALL
"""

_WEAK = """
SELECT weak.workflow_id, weak.intent, weak.patterns, list_sort(list_distinct(sol.kinds)),
    outc.status, weak.cluster, weak.ts
FROM weak
LEFT JOIN sol USING (workflow_id) LEFT JOIN outc USING (workflow_id)
ORDER BY weak.ts DESC, weak.workflow_id
LIMIT $limit
"""

_UNKNOWN = """
SELECT id, count(DISTINCT workflow_id), min(workflow_id)
FROM named_all n WHERE kind = '{kind}' AND {scope} AND NOT EXISTS (
    SELECT 1 FROM {table} k WHERE k.id = n.id
)
GROUP BY id
"""

_USED_WITHOUT_RETRIEVAL = """
WITH used AS (SELECT DISTINCT workflow_id, unnest(patterns_used) AS id FROM sol),
listed AS (SELECT workflow_id, id FROM rec_all WHERE kind = 'pattern' AND {scope})
SELECT used.id, count(*), min(used.workflow_id)
FROM used SEMI JOIN kb_patterns k ON k.id = used.id
ANTI JOIN listed ON listed.workflow_id = used.workflow_id AND listed.id = used.id
GROUP BY used.id
"""

_TOTALS = """
SELECT sum(events), count(*), min(first_ts), max(last_ts),
    (SELECT count(*) FROM sol),
    (SELECT count(*) FROM sol JOIN outc USING (workflow_id) WHERE outc.status = 'deployed'),
    (SELECT count(*) FROM weak)
FROM wf WHERE {scope}
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
    """Find re-delivered event ids (tables dup_ids, dropped); count the lines dropped."""
    con.execute(_DUPLICATE_IDS)
    con.execute(_DROPPED)
    duplicates = _scalar(con, "SELECT count(*) FROM dropped")
    conflicts = [
        str(row[0])
        for row in con.execute(
            "SELECT event_id FROM dup_ids WHERE conflict ORDER BY event_id"
        ).fetchall()
    ]
    return DuplicateSummary(duplicates=duplicates, conflicts=conflicts)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _literal(value: dt.datetime | float | str) -> str:
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{_naive(value).isoformat(sep=' ')}'"
    if isinstance(value, float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def _prepare(con: duckdb.DuckDBPyConnection, options: AggregationOptions) -> None:
    """The analysed events (view ev) and the compact per-workflow tables built from them."""
    window = ["true"]
    if options.since is not None:
        window.append(f"ts >= {_literal(options.since)}")
    if options.until is not None:
        window.append(f"ts < {_literal(options.until)}")
    has_dropped = _scalar(con, "SELECT count(*) FROM dropped") > 0
    con.execute(
        _EVENTS.format(
            anti_join="ANTI JOIN dropped USING (rn)" if has_dropped else "",
            window=" AND ".join(window),
        )
    )
    con.execute(_WORKFLOWS)
    if options.cluster is not None:
        con.execute(f"DELETE FROM wf WHERE cluster IS DISTINCT FROM {_literal(options.cluster)}")
    latest = {
        "sol_all": ("solution", "workflow_id, event_id, ts, cluster, patterns_used, "
                    "policies_applied, kinds, settings"),
        "outc_all": ("outcome", "workflow_id, event_id, ts, cluster, status"),
        "ret_all": ("retrieved", "workflow_id, event_id, ts, cluster, intent, patterns"),
    }  # fmt: skip
    for name, (event_type, columns) in latest.items():
        con.execute(_LATEST.format(name=name, type=event_type, columns=columns))
    weak = _literal(float(options.weak_match_threshold))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE weak_all AS SELECT * FROM ret_all WHERE len(patterns) = 0 "
        f"OR list_max(list_transform(patterns, lambda p: p.score)) < {weak}"
    )
    con.execute(_RECOMMENDED_ALL)
    con.execute(_NAMED_ALL)


def _scope(con: duckdb.DuckDBPyConnection, cluster: str | None) -> str:
    """Point the views sol, outc and weak at one cluster (or all); returns the scope condition."""
    scope = "true" if cluster is None else f"cluster = {_literal(cluster)}"
    for view, table in (("sol", "sol_all"), ("outc", "outc_all"), ("weak", "weak_all")):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {table} WHERE {scope}")
    return scope


def _items(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    kind: str,
    used: str,
    scope: str,
    strong: float,
) -> dict[str, ItemUsage]:
    items = {item_id: ItemUsage() for item_id in sorted(ids)}
    sql = _ITEM_RECOMMENDED.format(kind=kind, used=used, scope=scope)
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


def _weak_intents(con: duckdb.DuckDBPyConnection, options: AggregationOptions) -> list[WeakIntent]:
    rows = con.execute(_WEAK, {"limit": options.max_evidence_intents}).fetchall()
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
    return intents


def _anomalies(con: duckdb.DuckDBPyConnection, scope: str) -> list[Anomaly]:
    found: list[Anomaly] = []
    for anomaly, kind, table in (
        ("unknown_pattern", "pattern", "kb_patterns"),
        ("unknown_policy", "policy", "kb_policies"),
    ):
        sql = _UNKNOWN.format(kind=kind, table=table, scope=scope)
        for item_id, workflows, example in con.execute(sql).fetchall():
            found.append(
                Anomaly(
                    kind=anomaly,  # type: ignore[arg-type]
                    id=item_id,
                    workflows=int(workflows),
                    example_workflow=example,
                )
            )
    for item_id, workflows, example in con.execute(
        _USED_WITHOUT_RETRIEVAL.format(scope=scope)
    ).fetchall():
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
    scope = _scope(con, cluster)
    strong = options.strong_match_threshold
    patterns = _items(con, list(kb.patterns), "pattern", "patterns_used", scope, strong)
    policies = _items(con, list(kb.policies), "policy", "policies_applied", scope, strong)
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
    row = con.execute(_TOTALS.format(scope=scope)).fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    events, workflows, start, end, with_solution, deployed, weak_total = row
    return UsageReport(
        window=Window(start=_utc(start), end=_utc(end)),
        events=int(events or 0),
        workflows=int(workflows),
        workflows_with_solution=int(with_solution),
        deployed_solutions=int(deployed),
        patterns=patterns,
        policies=policies,
        co_usage=co_usage,
        settings=_settings(con),
        weak_intents=_weak_intents(con, options),
        weak_intents_total=int(weak_total),
        anomalies=_anomalies(con, scope),
    )


def aggregate_usage(
    con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, options: AggregationOptions
) -> UsageReport:
    """The usage report of the valid, deduplicated lines of `log_lines`, filtered by `options`.

    Includes one breakdown per cluster (by the cluster of each workflow's latest event).
    """
    _load_kb(con, kb)
    _prepare(con, options)
    clusters_sql = "SELECT DISTINCT cluster FROM wf WHERE cluster IS NOT NULL"
    names = sorted(str(row[0]) for row in con.execute(clusters_sql).fetchall())
    report = _report(con, kb, options, options.cluster)
    report.clusters = {name: _report(con, kb, options, name) for name in names}
    return report
