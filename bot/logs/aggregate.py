"""Aggregating checked workflow events into a UsageReport with DuckDB.

Input: the temp view `log_lines` (see bot/logs/classify.py). Every number is a pure function of
those lines, the knowledge base and the options; the metric definitions are in docs/metrics.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

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

# Content is compared only for the (usually few) repeated ids: a DISTINCT aggregate over every
# event would cost more than finding the repeats.
_DUPLICATE_IDS = f"""
CREATE OR REPLACE TEMP TABLE dup_ids AS
WITH repeated AS (SELECT event_id FROM ({_VALID}) GROUP BY event_id HAVING count(*) > 1)
SELECT event_id, count(DISTINCT content) > 1 AS conflict
FROM ({_VALID}) v SEMI JOIN repeated USING (event_id) GROUP BY event_id
"""

_DROPPED = f"""
CREATE OR REPLACE TEMP TABLE dropped AS
SELECT rn FROM ({_VALID}) v SEMI JOIN dup_ids USING (event_id)
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts, rn) > 1
"""

_EVENTS = f"""
CREATE OR REPLACE TEMP VIEW ev AS
SELECT rn, event_id, workflow_id, type, ts, cluster, intent, patterns, policies, patterns_used,
    policies_applied, kinds, settings, status
FROM ({_VALID}) v {{anti_join}}
WHERE {{window}}
"""

# One row per workflow, in one pass over the events: its cluster (that of its latest event) and
# its latest solution, outcome and retrieval (greatest ts, then greatest event id), the solution
# and the retrieval by line (rn): aggregating whole lists per workflow would cost far more.
_WORKFLOWS = """
CREATE OR REPLACE TEMP TABLE wf AS
-- w: a small number for the workflow, a cheaper key than its id for the per-item tables.
SELECT row_number() OVER () AS w, * FROM (
SELECT workflow_id, arg_max_null(cluster, (ts, event_id)) AS cluster, count(*) AS events,
    min(ts) AS first_ts, max(ts) AS last_ts,
    arg_max(rn, (ts, event_id)) FILTER (WHERE type = 'solution') AS sol_rn,
    arg_max(status, (ts, event_id)) FILTER (WHERE type = 'outcome') AS status,
    arg_max(rn, (ts, event_id)) FILTER (WHERE type = 'retrieved') AS ret_rn,
    arg_max(len(patterns) = 0 OR list_max(list_transform(patterns, lambda p: p.score)) < {weak},
        (ts, event_id)) FILTER (WHERE type = 'retrieved') AS weak
FROM ev GROUP BY workflow_id
)
"""

# The latest solution of each workflow, with the workflow's cluster and latest outcome.
_SOLUTIONS = """
CREATE OR REPLACE TEMP TABLE sol AS
SELECT wf.w, wf.workflow_id, wf.cluster, wf.status, l.ts, l.patterns_used, l.policies_applied,
    l.kinds, l.settings
FROM ev l JOIN wf ON l.rn = wf.sol_rn
"""

# One row per (workflow, item) the workflow names in any retrieval or solution: whether a
# retrieval listed it (and its best score) and whether the latest solution used it. This is the
# largest table (about six rows per workflow), so its key is narrow: the workflow's number w and
# is_pattern; cluster and outcome are joined from wf once the items are counted.
_FACTS = """
CREATE OR REPLACE TEMP TABLE facts AS
WITH named AS (
    SELECT wf.w, ev.type, ev.patterns, ev.policies, ev.patterns_used, ev.policies_applied
    FROM ev JOIN wf USING (workflow_id)
    -- The latest solution comes from sol below, marked as used.
    WHERE ev.type = 'retrieved' OR (ev.type = 'solution' AND ev.rn <> wf.sol_rn)
),
items AS (
    SELECT w, is_pattern, item.id AS id, item.score AS score, true AS listed, false AS used
    FROM (
        SELECT w, true AS is_pattern, unnest(patterns) AS item FROM named WHERE type = 'retrieved'
        UNION ALL
        SELECT w, false, unnest(policies) FROM named WHERE type = 'retrieved'
    )
    UNION ALL
    SELECT w, true, unnest(patterns_used), NULL, false, false FROM named WHERE type = 'solution'
    UNION ALL
    SELECT w, false, unnest(policies_applied), NULL, false, false
    FROM named WHERE type = 'solution'
    UNION ALL
    SELECT w, true, unnest(patterns_used), NULL, false, true FROM sol
    UNION ALL
    SELECT w, false, unnest(policies_applied), NULL, false, true FROM sol
)
SELECT w, is_pattern, id, max(score) AS score, bool_or(listed) AS listed, bool_or(used) AS used
FROM items GROUP BY w, is_pattern, id
"""

# Every report query groups by its keys twice, overall and per cluster: `total` tells them apart
# (a cluster row with cluster NULL holds the workflows without cluster, which are in no breakdown).
_ITEMS = """
SELECT GROUPING(g.cluster) = 1 AS total, g.cluster,
    CASE WHEN is_pattern THEN 'pattern' ELSE 'policy' END, id,
    count(*) FILTER (WHERE listed),
    count(*) FILTER (WHERE listed AND score >= $strong),
    count(*) FILTER (WHERE listed AND score >= $strong AND used),
    count(*) FILTER (WHERE used),
    count(*) FILTER (WHERE used AND g.status = 'deployed'),
    count(*) FILTER (WHERE used AND g.status = 'failed'),
    count(*) FILTER (WHERE used AND g.status = 'abandoned'),
    max(s.ts) FILTER (WHERE used),
    count(*), min(g.workflow_id),
    count(*) FILTER (WHERE used AND NOT listed),
    min(g.workflow_id) FILTER (WHERE used AND NOT listed)
FROM facts f JOIN wf g USING (w) LEFT JOIN sol s USING (w)
GROUP BY GROUPING SETS ((is_pattern, id), (g.cluster, is_pattern, id))
"""

_USED_KNOWN = """
SELECT w, cluster, id FROM (
    SELECT w, cluster, unnest(list_distinct(patterns_used)) AS id FROM sol
) SEMI JOIN kb_patterns k USING (id)
"""

# Joins rather than per-workflow lists: a kind is added when none of the workflow's known patterns
# suggests it.
_COMMON_ADDITIONS = f"""
WITH known AS ({_USED_KNOWN}),
covered AS (SELECT w, kind FROM known JOIN kb_suggested USING (id)),
present AS (SELECT w, unnest(list_distinct(kinds)) AS kind FROM sol),
added AS (SELECT * FROM present ANTI JOIN covered USING (w, kind))
SELECT GROUPING(cluster) = 1 AS total, cluster, id, kind, count(*)
FROM known JOIN added USING (w)
GROUP BY GROUPING SETS ((id, kind), (cluster, id, kind))
"""

_CO_USAGE = f"""
WITH known AS ({_USED_KNOWN})
SELECT GROUPING(x.cluster) = 1 AS total, x.cluster, x.id, y.id, count(*) AS n
FROM known x JOIN known y ON x.w = y.w AND x.id < y.id
GROUP BY GROUPING SETS ((x.id, y.id), (x.cluster, x.id, y.id))
ORDER BY n DESC, x.id, y.id
"""

_SETTINGS = """
-- A MAP has unique keys, so (workflow, path) is unique in pairs.
WITH pairs AS (
    SELECT w, cluster, e.key AS path, e.value::VARCHAR AS value, kinds FROM (
        SELECT w, cluster, list_distinct(kinds) AS kinds,
            unnest(map_entries(CAST(settings::JSON AS MAP(VARCHAR, JSON)))) AS e
        FROM sol WHERE status = 'deployed' AND settings IS NOT NULL
    )
)
SELECT GROUPING(cluster) = 1, cluster, path, value, NULL AS kind, count(*) FROM pairs
GROUP BY GROUPING SETS ((path, value), (cluster, path, value))
UNION ALL
-- Each workflow's kinds are distinct, so count(*) counts workflows.
SELECT GROUPING(cluster) = 1, cluster, path, value, kind, count(*)
FROM (SELECT cluster, path, value, unnest(kinds) AS kind FROM pairs)
GROUP BY GROUPING SETS ((path, value, kind), (cluster, path, value, kind))
"""

# The most recent weak workflows, ranked overall and within their cluster.
_WEAK = """
SELECT * FROM (
    SELECT wf.workflow_id, l.intent, l.patterns, list_sort(list_distinct(sol.kinds)), wf.status,
        wf.cluster, l.ts,
        row_number() OVER (ORDER BY l.ts DESC, wf.workflow_id) AS overall_rank,
        row_number() OVER (PARTITION BY wf.cluster ORDER BY l.ts DESC, wf.workflow_id)
            AS cluster_rank
    FROM wf JOIN ev l ON l.rn = wf.ret_rn LEFT JOIN sol ON sol.workflow_id = wf.workflow_id
    WHERE wf.weak
)
WHERE overall_rank <= $limit OR (cluster IS NOT NULL AND cluster_rank <= $limit)
ORDER BY ts DESC, workflow_id
"""

_TOTALS = """
SELECT GROUPING(cluster) = 1, cluster, sum(events), count(*), min(first_ts), max(last_ts),
    count(sol_rn), count(*) FILTER (WHERE sol_rn IS NOT NULL AND status = 'deployed'),
    count(*) FILTER (WHERE weak)
FROM wf GROUP BY GROUPING SETS ((), (cluster))
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
    con.execute(
        "CREATE OR REPLACE TEMP TABLE kb_suggested AS "
        "SELECT id, unnest(suggested) AS kind FROM kb_patterns"
    )


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
    """The analysed events (view ev), tables per workflow (wf, sol) and per item used (facts)."""
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
    weak = _literal(float(options.weak_match_threshold))
    con.execute(_WORKFLOWS.replace("{weak}", weak))
    if options.cluster is not None:
        con.execute(f"DELETE FROM wf WHERE cluster IS DISTINCT FROM {_literal(options.cluster)}")
    con.execute(_SOLUTIONS)
    con.execute(_FACTS)


# Reports by scope: None is the overall report, a name is that cluster's breakdown.
Reports = dict[str | None, UsageReport]
AnomalyKind = Literal["unknown_pattern", "unknown_policy"]


def _target(reports: Reports, total: bool, cluster: str | None) -> UsageReport | None:
    """The report a grouped row belongs to (None for workflows without cluster)."""
    if total:
        return reports[None]
    return reports.get(cluster) if cluster is not None else None


def _new_report(kb: KnowledgeBase) -> UsageReport:
    return UsageReport(
        patterns={item_id: ItemUsage() for item_id in sorted(kb.patterns)},
        policies={item_id: ItemUsage() for item_id in sorted(kb.policies)},
    )


def _totals(con: duckdb.DuckDBPyConnection, kb: KnowledgeBase) -> Reports:
    reports: Reports = {None: _new_report(kb)}
    rows = con.execute(_TOTALS).fetchall()
    for total, cluster, events, workflows, start, end, with_solution, deployed, weak_n in rows:
        if not total and cluster is None:
            continue
        key = None if total else str(cluster)
        report = reports.setdefault(key, _new_report(kb))
        report.window = Window(start=_utc(start), end=_utc(end))
        report.events = int(events or 0)
        report.workflows = int(workflows)
        report.workflows_with_solution = int(with_solution)
        report.deployed_solutions = int(deployed)
        report.weak_intents_total = int(weak_n)
    return reports


def _items(con: duckdb.DuckDBPyConnection, reports: Reports, strong: float) -> None:
    """Per-item counters, and the anomalies found along the way."""
    for row in con.execute(_ITEMS, {"strong": strong}).fetchall():
        total, cluster, kind, item_id, recommended, strong_n, strong_used = row[:7]
        used, deployed, failed, abandoned, last, named, example, unlisted, unlisted_eg = row[7:]
        report = _target(reports, total, cluster)
        if report is None:
            continue
        item = (report.patterns if kind == "pattern" else report.policies).get(item_id)
        if item is None:
            anomaly: AnomalyKind = "unknown_pattern" if kind == "pattern" else "unknown_policy"
            report.anomalies.append(
                Anomaly(kind=anomaly, id=item_id, workflows=int(named), example_workflow=example)
            )
            continue
        item.times_recommended = int(recommended)
        item.strong_recommendations = int(strong_n)
        item.strong_recommendations_used = int(strong_used)
        item.times_used = int(used)
        item.deployed, item.failed, item.abandoned = int(deployed), int(failed), int(abandoned)
        decided = item.deployed + item.failed
        item.success_rate = item.deployed / decided if decided else None
        item.last_used = _utc(last)
        if kind == "pattern" and unlisted:
            report.anomalies.append(
                Anomaly(
                    kind="used_without_retrieval",
                    id=item_id,
                    workflows=int(unlisted),
                    example_workflow=unlisted_eg,
                )
            )
    for report in reports.values():
        report.anomalies.sort(key=lambda a: (a.kind, -a.workflows, a.id))


def _common_additions(con: duckdb.DuckDBPyConnection, reports: Reports) -> None:
    additions: dict[tuple[str | None, str], dict[str, int]] = defaultdict(dict)
    for total, cluster, item_id, kind, count in con.execute(_COMMON_ADDITIONS).fetchall():
        if total or cluster is not None:
            additions[(None if total else cluster, item_id)][kind] = int(count)
    for (key, item_id), kinds in additions.items():
        reports[key].patterns[item_id].common_additions = dict(
            sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        )


def _co_usage(con: duckdb.DuckDBPyConnection, reports: Reports) -> None:
    for total, cluster, a, b, count in con.execute(_CO_USAGE).fetchall():
        report = _target(reports, total, cluster)
        if report is not None:
            report.co_usage.append(PairUsage(a=a, b=b, workflows=int(count)))


def _setting_value(text: str | None) -> SettingValue:
    value: SettingValue = None if text is None else json.loads(text)
    return value


def _settings(con: duckdb.DuckDBPyConnection, reports: Reports) -> None:
    found: dict[str | None, dict[tuple[str, str | None], SettingUsage]] = defaultdict(dict)
    kinds: dict[tuple[str | None, str, str | None], dict[str, int]] = defaultdict(dict)
    for total, cluster, path, value, kind, count in con.execute(_SETTINGS).fetchall():
        if not total and cluster is None:
            continue
        key = None if total else str(cluster)
        if kind is None:
            found[key][(str(path), value)] = SettingUsage(
                path=str(path), value=_setting_value(value), deployed_workflows=int(count)
            )
        else:
            kinds[(key, str(path), value)][str(kind)] = int(count)
    for key, settings in found.items():
        for (path, value), usage in settings.items():
            usage.kinds = dict(sorted(kinds[(key, path, value)].items()))
        reports[key].settings = sorted(
            settings.values(), key=lambda s: (-s.deployed_workflows, s.path, json.dumps(s.value))
        )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _best(patterns: list[dict[str, Any]]) -> tuple[str | None, float | None]:
    if not patterns:
        return None, None
    best = min(patterns, key=lambda p: (-float(p["score"]), str(p["id"])))
    return str(best["id"]), float(best["score"])


def _weak_intents(
    con: duckdb.DuckDBPyConnection, reports: Reports, options: AggregationOptions
) -> None:
    limit = options.max_evidence_intents
    rows = con.execute(_WEAK, {"limit": limit}).fetchall()
    for workflow_id, intent, patterns, kinds, status, cluster, ts, overall, in_cluster in rows:
        best_id, best_score = _best(patterns or [])
        status_value: OutcomeStatus | None = status
        weak_intent = WeakIntent(
            workflow_id=workflow_id,
            intent=_shorten(redact(intent or ""), options.max_intent_length),
            best_pattern=best_id,
            best_score=best_score,
            kinds=[str(k) for k in kinds or []],
            status=status_value,
            cluster=cluster,
            ts=_utc(ts) or dt.datetime.min.replace(tzinfo=dt.UTC),
        )
        if overall <= limit:
            reports[None].weak_intents.append(weak_intent)
        if cluster is not None and in_cluster <= limit:
            reports[cluster].weak_intents.append(weak_intent)


def aggregate_usage(
    con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, options: AggregationOptions
) -> UsageReport:
    """The usage report of the valid, deduplicated lines of `log_lines`, filtered by `options`.

    Includes one breakdown per cluster (by the cluster of each workflow's latest event).
    """
    _load_kb(con, kb)
    _prepare(con, options)
    reports = _totals(con, kb)
    _items(con, reports, options.strong_match_threshold)
    _common_additions(con, reports)
    _co_usage(con, reports)
    _settings(con, reports)
    _weak_intents(con, reports, options)
    report = reports.pop(None)
    report.clusters = {name: reports[name] for name in sorted(n for n in reports if n)}
    return report
