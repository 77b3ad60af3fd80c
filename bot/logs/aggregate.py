"""Aggregating checked workflow events into a UsageReport with DuckDB.

Input: the temp view `log_lines` (see bot/logs/classify.py). Every number is a pure function of
those lines, the knowledge base and the options; the metric definitions are in docs/metrics.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import numpy as np

from bot.knowledge.repository import KnowledgeBase
from bot.logs.error_text import normalise_error
from bot.logs.events import OutcomeStatus, SettingValue
from bot.logs.profiles import Ints, SolutionProfiles, co_used, distinct_pairs
from bot.logs.redact import SECRET_VALUE, names_a_secret, redact
from bot.logs.usage import (
    Anomaly,
    DayOutcomes,
    DayUses,
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
    recent_days: int = 30
    max_errors_per_item: int = 10
    max_error_length: int = 200
    # False computes only what `metrics` shows (the per-item counters, totals and anomalies,
    # overall and per cluster); the learning stages need the rest.
    learning_inputs: bool = True


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
    policies_applied, kinds, settings, status, error
FROM ({_VALID}) v {{anti_join}}
WHERE {{window}}
"""

# One row per workflow, in one pass over the events: its cluster (that of its latest event) and
# its latest solution, outcome and retrieval (greatest ts, then greatest event id), the solution
# and the retrieval by line (rn): aggregating whole lists per workflow would cost far more.
# `period` is set afterwards when the logs span more than the recent window.
_WORKFLOWS = """
CREATE OR REPLACE TEMP TABLE wf AS
-- w: a small number for the workflow, a cheaper key than its id for the per-item tables.
SELECT row_number() OVER () AS w, *, NULL::VARCHAR AS period FROM (
SELECT workflow_id, arg_max_null(cluster, (ts, event_id)) AS cluster, count(*) AS events,
    min(ts) AS first_ts, max(ts) AS last_ts,
    arg_max(rn, (ts, event_id)) FILTER (WHERE type = 'solution') AS sol_rn,
    arg_max(status, (ts, event_id)) FILTER (WHERE type = 'outcome') AS status,
    arg_max_null(error, (ts, event_id)) FILTER (WHERE type = 'outcome') AS error,
    max(ts) FILTER (WHERE type = 'outcome') AS outcome_ts,
    -- The latest solution's time, kept here so that counting its items needs no join with sol.
    max(ts) FILTER (WHERE type = 'solution') AS sol_ts,
    arg_max(rn, (ts, event_id)) FILTER (WHERE type = 'retrieved') AS ret_rn,
    arg_max(len(patterns) = 0 OR list_max(list_transform(patterns, lambda p: p.score)) < {weak},
        (ts, event_id)) FILTER (WHERE type = 'retrieved') AS weak
FROM ev GROUP BY workflow_id
)
"""

# The latest solution of each workflow, with the workflow's cluster, period and latest outcome;
# its resource kinds as written (made distinct where they are counted, on far fewer rows). A view:
# three queries read it, and as a table it would hold every solution's lists and settings in
# memory through the largest grouping (facts).
_SOLUTIONS = """
CREATE OR REPLACE TEMP VIEW sol AS
SELECT wf.w, wf.workflow_id, wf.cluster, wf.period, wf.status, l.patterns_used, l.kinds,
    l.settings
FROM ev l JOIN wf ON l.rn = wf.sol_rn
"""

# One row per (workflow, item) the workflow names in any retrieval or solution: whether a
# retrieval listed it (and its best score) and whether the latest solution used it. This is the
# largest table (about six rows per workflow), so its key is narrow: the workflow's number w and
# is_pattern; cluster and outcome are joined from wf once the items are counted. Each event's
# lists become one list of items, unnested in the same pass: a table of the events' lists, read
# once per list, would hold them all in memory while the items are grouped.
_FACTS = """
CREATE OR REPLACE TEMP TABLE facts AS
WITH items AS (
    SELECT w, unnest(CASE WHEN ev.type = 'retrieved'
        THEN list_concat(
            list_transform(ev.patterns,
                lambda p: {'is_pattern': true, 'id': p.id, 'score': p.score, 'listed': true}),
            list_transform(ev.policies,
                lambda p: {'is_pattern': false, 'id': p.id, 'score': p.score, 'listed': true}))
        ELSE list_concat(
            list_transform(ev.patterns_used,
                lambda i: {'is_pattern': true, 'id': i, 'score': NULL::DOUBLE, 'listed': false}),
            list_transform(ev.policies_applied,
                lambda i: {'is_pattern': false, 'id': i, 'score': NULL::DOUBLE, 'listed': false}))
        END, recursive := true),
        -- Only the latest solution's items are used; an earlier solution's are just named.
        coalesce(ev.rn = wf.sol_rn, false) AS used
    FROM ev JOIN wf USING (workflow_id)
    WHERE ev.type IN ('retrieved', 'solution')
)
SELECT w, is_pattern, id, max(score) AS score, bool_or(listed) AS listed, bool_or(used) AS used
FROM items GROUP BY w, is_pattern, id
"""

# Every report query groups its keys once per scope: overall, per cluster and (when the logs span
# more than the recent window) per period. {scope} selects which scope a row belongs to (see
# _scope_of) and {sets} is the GROUPING SETS clause, both filled in by _grouped. Days are grouped
# as dates and written as text once per group, not once per row.
_ITEMS = """
SELECT {scope}, CASE WHEN is_pattern THEN 'pattern' ELSE 'policy' END, id,
    count(*) FILTER (WHERE listed),
    count(*) FILTER (WHERE listed AND score >= $strong),
    count(*) FILTER (WHERE listed AND score >= $strong AND used),
    count(*) FILTER (WHERE used),
    count(*) FILTER (WHERE used AND g.status = 'deployed'),
    count(*) FILTER (WHERE used AND g.status = 'failed'),
    count(*) FILTER (WHERE used AND g.status = 'abandoned'),
    max(g.sol_ts) FILTER (WHERE used),
    count(*), min(g.workflow_id),
    count(*) FILTER (WHERE used AND NOT listed),
    min(g.workflow_id) FILTER (WHERE used AND NOT listed)
FROM facts f JOIN wf g USING (w)
{sets}
"""

# Failed workflows that used an item: by their latest outcome's error text and by the day of
# that outcome. Texts are normalised in Python (redaction cannot run in SQL), once per distinct
# text, and merged there.
_FAILED_ITEMS = """
SELECT {scope}, is_pattern, id, g.error, strftime(g.outcome_ts::DATE, '%Y-%m-%d') AS day, count(*)
FROM facts f JOIN wf g USING (w)
WHERE f.used AND g.status = 'failed'
{sets}
"""

# Workflows whose latest solution used an item, by the day of that solution, with outcomes.
_USES_BY_DAY = """
SELECT {scope}, is_pattern, id, strftime(g.sol_ts::DATE, '%Y-%m-%d') AS day, count(*),
    count(*) FILTER (WHERE g.status = 'deployed'),
    count(*) FILTER (WHERE g.status = 'failed')
FROM facts f JOIN wf g USING (w)
WHERE f.used
{sets}
"""

_OUTCOMES_BY_DAY = """
SELECT {scope}, strftime(g.outcome_ts::DATE, '%Y-%m-%d') AS day,
    count(*) FILTER (WHERE g.status = 'deployed'),
    count(*) FILTER (WHERE g.status = 'failed'),
    count(*) FILTER (WHERE g.status = 'abandoned')
FROM wf g WHERE g.status IS NOT NULL
{sets}
"""

# Latest solutions with the same cluster, period, patterns and kinds, counted together (a), for
# the queries that look at nothing else: far fewer rows than workflows when tools repeat
# themselves, and never more.
_ALIKE = """
CREATE OR REPLACE TEMP TABLE alike AS
SELECT row_number() OVER () AS a, * REPLACE (list_distinct(kinds) AS kinds) FROM (
    SELECT cluster, period, patterns_used, kinds, count(*) AS workflows,
        count(*) FILTER (WHERE status = 'deployed') AS deployed,
        count(*) FILTER (WHERE status = 'failed') AS failed
    FROM sol GROUP BY cluster, period, patterns_used, kinds
)
"""

_USED_KNOWN = """
SELECT a, cluster, period, workflows, id FROM (
    SELECT a, cluster, period, workflows, unnest(list_distinct(patterns_used)) AS id FROM alike
) SEMI JOIN kb_patterns k USING (id)
"""

# Latest solutions by signature: the knowledge-base patterns used and the distinct resource kinds,
# each as a sorted list of codes (a name's code is its rank among the sorted names, so lists of
# codes sort as the lists of names would). Scopes are numbered (scope_no) and profiles are numbered
# scope by scope (r), so that a scope's profiles are a range of r.
_PROFILE_CODES = """
CREATE OR REPLACE TEMP TABLE profile_pattern_codes AS
SELECT id AS name, (row_number() OVER (ORDER BY id) - 1)::BIGINT AS code FROM kb_patterns;
CREATE OR REPLACE TEMP TABLE profile_kind_codes AS
SELECT kind AS name, (row_number() OVER (ORDER BY kind) - 1)::BIGINT AS code
FROM (SELECT DISTINCT unnest(kinds) AS kind FROM alike);
"""

# Lists become sorted, distinct codes per group of alike solutions, so groups that differ only in
# order, repeats or unknown patterns meet in `grouped`.
_PROFILES = """
CREATE OR REPLACE TEMP TABLE profiles AS
WITH pattern_sets AS (
    SELECT a, list_sort(list(DISTINCT c.code)) AS codes
    FROM (SELECT a, unnest(patterns_used) AS name FROM alike)
        JOIN profile_pattern_codes c USING (name)
    GROUP BY a
),
-- Kinds are distinct in alike, and so are their codes.
kind_sets AS (
    SELECT a, list_sort(list(c.code)) AS codes
    FROM (SELECT a, unnest(kinds) AS name FROM alike) JOIN profile_kind_codes c USING (name)
    GROUP BY a
),
signed AS (
    SELECT s.cluster AS cluster, s.period AS period, s.workflows, s.deployed, s.failed,
        coalesce(p.codes, []) AS pattern_codes, coalesce(k.codes, []) AS kind_codes
    FROM alike s LEFT JOIN pattern_sets p USING (a) LEFT JOIN kind_sets k USING (a)
),
grouped AS MATERIALIZED (
    SELECT * FROM (
        SELECT {scope}, pattern_codes, kind_codes, sum(g.workflows)::BIGINT,
            sum(g.deployed)::BIGINT, sum(g.failed)::BIGINT
        FROM signed g
        {sets}
    ) AS t(by_cluster, by_period, cluster, period, pattern_codes, kind_codes, workflows, deployed,
        failed)
)
SELECT s.scope_no,
    -- Scope by scope, in no particular order within one: the counts do not depend on it, and
    -- rows are listed sorted. (A window partitioned by scope would sort on its names.)
    row_number() OVER (ORDER BY s.scope_no) - 1 AS r, g.*
FROM grouped g JOIN (
    SELECT *, row_number() OVER (ORDER BY by_cluster, by_period, cluster, period) AS scope_no
    FROM (SELECT DISTINCT by_cluster, by_period, cluster, period FROM grouped)
) s ON g.by_cluster = s.by_cluster AND g.by_period = s.by_period
    AND g.cluster IS NOT DISTINCT FROM s.cluster AND g.period IS NOT DISTINCT FROM s.period
"""

# Joins rather than per-workflow lists: a kind is added when none of the solution's known patterns
# suggests it.
_COMMON_ADDITIONS = f"""
WITH known AS ({_USED_KNOWN}),
covered AS (SELECT a, kind FROM known JOIN kb_suggested USING (id)),
present AS (SELECT a, unnest(kinds) AS kind FROM alike),
added AS (SELECT * FROM present ANTI JOIN covered USING (a, kind))
SELECT {{scope}}, id, kind, sum(workflows)
FROM known g JOIN added USING (a)
{{sets}}
"""

# Deployed solutions counted by (cluster, period, settings text, kinds) first: many workflows share
# these (a tool writes the same settings again and again), so each distinct object is read once
# and its pairs carry the number of workflows behind them.
_SETTING_PAIRS = """
WITH deployed AS (
    SELECT cluster, period, settings, kinds, count(*) AS workflows FROM sol
    WHERE status = 'deployed' AND settings IS NOT NULL
    GROUP BY cluster, period, settings, kinds
),
-- Settings are objects with distinct keys (checked when read), so (workflow, path) is unique in
-- pairs. json_each, not a cast to MAP: the same pairs at a quarter of the cost.
pairs AS (
    SELECT cluster, period, e.key AS path, e.value::VARCHAR AS value,
        list_distinct(kinds) AS kinds, workflows
    FROM deployed, json_each(deployed.settings) AS e
)
"""

_SETTINGS = """
SELECT {scope}, path, value, NULL AS kind, sum(workflows) FROM pairs g
{sets}
UNION ALL
-- Each workflow's kinds are distinct, so the sums count workflows.
SELECT {scope}, path, value, kind, sum(workflows)
FROM (SELECT cluster, period, path, value, unnest(kinds) AS kind, workflows FROM pairs) g
{kind_sets}
"""

# The most recent weak workflows, ranked overall, within their cluster and within their period.
_WEAK = """
SELECT * FROM (
    SELECT wf.workflow_id, l.intent, l.patterns, list_sort(list_distinct(sol.kinds)), wf.status,
        wf.cluster, wf.period, l.ts,
        row_number() OVER (ORDER BY l.ts DESC, wf.workflow_id) AS overall_rank,
        row_number() OVER (PARTITION BY wf.cluster ORDER BY l.ts DESC, wf.workflow_id)
            AS cluster_rank,
        row_number() OVER (PARTITION BY wf.period ORDER BY l.ts DESC, wf.workflow_id)
            AS period_rank
    FROM wf JOIN ev l ON l.rn = wf.ret_rn LEFT JOIN sol ON sol.workflow_id = wf.workflow_id
    WHERE wf.weak
)
WHERE overall_rank <= $limit OR (cluster IS NOT NULL AND cluster_rank <= $limit)
    OR (period IS NOT NULL AND period_rank <= $limit)
ORDER BY ts DESC, workflow_id
"""

_TOTALS = """
SELECT {scope}, sum(events), count(*), min(first_ts), max(last_ts),
    count(sol_rn), count(*) FILTER (WHERE sol_rn IS NOT NULL AND status = 'deployed'),
    count(*) FILTER (WHERE weak)
FROM wf g
{sets}
"""

# Scope columns every grouped query starts with.
_SCOPE_COLUMNS = 4


def _grouped(sql: str, keys: str, periods: bool, *, kind_keys: str = "") -> str:
    """`sql` with {scope} and {sets} filled in for the grouping `keys` (table alias g)."""

    def sets(group_keys: str) -> str:
        tail = f", {group_keys}" if group_keys else ""
        chosen = [f"({group_keys})", f"(g.cluster{tail})"]
        if periods:
            chosen.append(f"(g.period{tail})")
        return "GROUP BY GROUPING SETS (" + ", ".join(chosen) + ")"

    period = "GROUPING(g.period)" if periods else "1"
    scope = f"GROUPING(g.cluster), {period}, g.cluster, {'g.period' if periods else 'NULL'}"
    return (
        sql.replace("{scope}", scope)
        .replace("{sets}", sets(keys))
        .replace("{kind_sets}", sets(kind_keys))
    )


@functools.lru_cache(maxsize=1 << 16)
def _redacted(text: str) -> str:
    """redact() for the short texts that repeat across rows and scopes (kinds, setting paths and
    values, pattern ids): each distinct text is redacted once."""
    return redact(text)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None else None


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _load_kb(con: duckdb.DuckDBPyConnection, kb: KnowledgeBase) -> None:
    # One statement per table, the rows passed as lists: executemany costs a statement per row.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE kb_patterns AS SELECT unnest($ids::VARCHAR[]) AS id, "
        "unnest($suggested::VARCHAR[][]) AS suggested",
        {
            "ids": [p.id for p in kb.patterns.values()],
            "suggested": [list(p.suggested_resources) for p in kb.patterns.values()],
        },
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE kb_policies AS SELECT unnest($ids::VARCHAR[]) AS id",
        {"ids": list(kb.policies)},
    )
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


def _prepare(con: duckdb.DuckDBPyConnection, options: AggregationOptions) -> bool:
    """The analysed events (view ev), the workflows (table wf), their latest solutions (view
    sol), the items each workflow names (facts) and the latest solutions counted by what they
    hold (alike).

    Returns whether the workflows are split into recent and earlier periods.
    """
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
    _redact_clusters(con)
    periods = _split_periods(con, options.recent_days)
    con.execute(_SOLUTIONS)
    con.execute(_FACTS)
    # After facts, whose grouping is the peak of memory.
    con.execute(_ALIKE)
    return periods


def _redact_clusters(con: duckdb.DuckDBPyConnection) -> None:
    """Cluster names are user text too: redacted once per distinct name, before any scope is
    keyed by them."""
    names = [row[0] for row in con.execute("SELECT DISTINCT cluster FROM wf").fetchall()]
    changed = [(redact(n), n) for n in names if n is not None and redact(n) != n]
    if changed:
        con.executemany("UPDATE wf SET cluster = ? WHERE cluster = ?", changed)


def _split_periods(con: duckdb.DuckDBPyConnection, recent_days: int) -> bool:
    """Mark each workflow recent or earlier by its latest event, when the logs span more than
    `recent_days` days; the recent window ends at the newest event and includes its start."""
    row = con.execute("SELECT min(first_ts), max(last_ts) FROM wf").fetchone()
    if row is None or row[0] is None:
        return False
    oldest, newest = row
    cut = newest - dt.timedelta(days=recent_days)
    if oldest >= cut:
        return False
    con.execute(
        "UPDATE wf SET period = CASE WHEN last_ts >= $cut THEN 'recent' ELSE 'earlier' END",
        {"cut": cut},
    )
    return True


# Reports by scope: None is the overall report, ("cluster", name) a cluster's breakdown and
# ("period", "recent" | "earlier") a period's.
Scope = tuple[Literal["cluster", "period"], str] | None
Reports = dict[Scope, UsageReport]
AnomalyKind = Literal["unknown_pattern", "unknown_policy"]
_SKIP = ("skip", "")


def _scope_of(row: Sequence[Any]) -> Scope | tuple[str, str]:
    """The scope of a grouped row (its first four columns), or _SKIP for workflows that are in
    no breakdown (no cluster)."""
    by_cluster, by_period, cluster, period = row[:_SCOPE_COLUMNS]
    if by_cluster and by_period:
        return None
    if not by_cluster:
        return ("cluster", str(cluster)) if cluster is not None else _SKIP
    return ("period", str(period)) if period is not None else _SKIP


def _target(reports: Reports, row: Sequence[Any]) -> UsageReport | None:
    """The report a grouped row belongs to (None for workflows in no breakdown)."""
    scope = _scope_of(row)
    return None if scope == _SKIP else reports.get(scope)  # type: ignore[arg-type]


def _targets(reports: Reports) -> Callable[[Sequence[Any]], UsageReport | None]:
    """_target for many rows: a query's rows share a few scopes, each looked up once."""
    found: dict[tuple[Any, ...], UsageReport | None] = {}

    def target(row: Sequence[Any]) -> UsageReport | None:
        key = tuple(row[:_SCOPE_COLUMNS])
        if key not in found:
            found[key] = _target(reports, row)
        return found[key]

    return target


def _new_report(kb: KnowledgeBase) -> UsageReport:
    return UsageReport(
        patterns={item_id: ItemUsage() for item_id in sorted(kb.patterns)},
        policies={item_id: ItemUsage() for item_id in sorted(kb.policies)},
    )


def _totals(con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, periods: bool) -> Reports:
    reports: Reports = {None: _new_report(kb)}
    for row in con.execute(_grouped(_TOTALS, "", periods)).fetchall():
        scope = _scope_of(row)
        if scope == _SKIP:
            continue
        events, workflows, start, end, with_solution, deployed, weak_n = row[_SCOPE_COLUMNS:]
        report = reports.setdefault(scope, _new_report(kb))  # type: ignore[arg-type]
        report.window = Window(start=_utc(start), end=_utc(end))
        report.events = int(events or 0)
        report.workflows = int(workflows)
        report.workflows_with_solution = int(with_solution)
        report.deployed_solutions = int(deployed)
        report.weak_intents_total = int(weak_n)
    return reports


def _items(con: duckdb.DuckDBPyConnection, reports: Reports, strong: float, periods: bool) -> None:
    """Per-item counters, and the anomalies found along the way."""
    sql = _grouped(_ITEMS, "is_pattern, id", periods)
    target = _targets(reports)
    for row in con.execute(sql, {"strong": strong}).fetchall():
        report = target(row)
        if report is None:
            continue
        kind, item_id, recommended, strong_n, strong_used = row[_SCOPE_COLUMNS : _SCOPE_COLUMNS + 5]
        used, deployed, failed, abandoned, last, named, example, unlisted, unlisted_eg = row[
            _SCOPE_COLUMNS + 5 :
        ]
        item = (report.patterns if kind == "pattern" else report.policies).get(item_id)
        if item is None:
            anomaly: AnomalyKind = "unknown_pattern" if kind == "pattern" else "unknown_policy"
            report.anomalies.append(
                Anomaly(
                    kind=anomaly,
                    id=redact(item_id),
                    workflows=int(named),
                    example_workflow=redact(example),
                )
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
                    example_workflow=redact(unlisted_eg),
                )
            )
    for report in reports.values():
        report.anomalies.sort(key=lambda a: (a.kind, -a.workflows, a.id))


def _most_common(counts: dict[str, int], limit: int | None = None) -> dict[str, int]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(ranked if limit is None else ranked[:limit])


def _failed_items(
    con: duckdb.DuckDBPyConnection, reports: Reports, options: AggregationOptions, periods: bool
) -> None:
    """Each item's failed workflows by normalised error text and by day."""
    day = "g.outcome_ts::DATE"
    sql = _grouped(_FAILED_ITEMS, f"is_pattern, id, g.error, {day}", periods)
    normalised: dict[str, str] = {}
    errors: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    days: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    touched: dict[int, ItemUsage] = {}
    target = _targets(reports)
    for row in con.execute(sql).fetchall():
        report = target(row)
        if report is None:
            continue
        is_pattern, item_id, error, on_day, count = row[_SCOPE_COLUMNS:]
        item = (report.patterns if is_pattern else report.policies).get(item_id)
        if item is None:
            continue
        touched[id(item)] = item
        if on_day is not None:
            days[id(item)][str(on_day)] += int(count)
        if error is not None and error.strip():
            if error not in normalised:
                normalised[error] = normalise_error(error, options.max_error_length)
            errors[id(item)][normalised[error]] += int(count)
    for key, item in touched.items():
        item.errors = _most_common(errors.get(key, {}), options.max_errors_per_item)
        item.failed_by_day = dict(sorted(days.get(key, {}).items()))


# The position of the day column, from 1, in a grouped row.
_BY_DAY = " ORDER BY #{column}"


def _uses_by_day(con: duckdb.DuckDBPyConnection, reports: Reports, periods: bool) -> None:
    """Each item's uses per day of the using solution, with their outcomes."""
    sql = _grouped(_USES_BY_DAY, "is_pattern, id, g.sol_ts::DATE", periods)
    # Days in order (ISO dates sort as text).
    target = _targets(reports)
    for row in con.execute(sql + _BY_DAY.format(column=_SCOPE_COLUMNS + 3)).fetchall():
        report = target(row)
        if report is None:
            continue
        is_pattern, item_id, on_day, used, deployed, failed = row[_SCOPE_COLUMNS:]
        item = (report.patterns if is_pattern else report.policies).get(item_id)
        if item is not None and on_day is not None:
            item.uses_by_day[str(on_day)] = DayUses(int(used), int(deployed), int(failed))


def _outcomes_by_day(con: duckdb.DuckDBPyConnection, reports: Reports, periods: bool) -> None:
    sql = _grouped(_OUTCOMES_BY_DAY, "g.outcome_ts::DATE", periods)
    for row in sorted(con.execute(sql).fetchall(), key=lambda r: str(r[_SCOPE_COLUMNS])):
        report = _target(reports, row)
        if report is not None:
            on_day, deployed, failed, abandoned = row[_SCOPE_COLUMNS:]
            report.outcomes_by_day[str(on_day)] = DayOutcomes(
                deployed=int(deployed), failed=int(failed), abandoned=int(abandoned)
            )


def _profiles(con: duckdb.DuckDBPyConnection, reports: Reports, periods: bool) -> None:
    """Each report's solution profiles (bot/logs/profiles.py), fetched by column: there can be one
    per workflow. Kind names are redacted once each."""
    con.execute(_PROFILE_CODES)
    con.execute(_grouped(_PROFILES, "pattern_codes, kind_codes", periods))
    pattern_names = _names(con, "profile_pattern_codes")
    raw_kinds = _names(con, "profile_kind_codes")
    kept = [_redacted(kind) for kind in raw_kinds]
    kind_names = sorted(set(kept))
    # Redaction can merge two kinds or change their order: codes follow the kept names.
    code_of = {name: code for code, name in enumerate(kind_names)}
    kind_code = np.asarray([code_of[k] for k in kept] if kept != kind_names else [])
    # Rows are numbered scope by scope (r): a scope's rows and pairs are a range of r.
    per_profile = con.execute(
        "SELECT scope_no, workflows, deployed, failed FROM profiles ORDER BY r"
    ).fetchnumpy()
    pattern_pairs, kind_pairs = (
        con.execute(
            f"SELECT r, code FROM (SELECT r, unnest({column}) AS code FROM profiles) "
            "ORDER BY r, code"
        ).fetchnumpy()
        for column in ("pattern_codes", "kind_codes")
    )
    scopes = con.execute(
        "SELECT DISTINCT scope_no, by_cluster, by_period, cluster, period FROM profiles"
    ).fetchall()
    for scope_no, *scope in scopes:
        report = _target(reports, scope)
        if report is None:
            continue
        start, end = np.searchsorted(per_profile["scope_no"], [scope_no, scope_no + 1])
        workflows, deployed, failed = (
            np.asarray(per_profile[name][start:end], dtype=np.int64)
            for name in ("workflows", "deployed", "failed")
        )
        kind_rows, kind_codes = _pairs_in(kind_pairs, start, end)
        if kind_code.size:
            kind_codes = kind_code[kind_codes]
            kind_rows, kind_codes = distinct_pairs(kind_rows, kind_codes, len(kind_names))
        report.solution_profiles = SolutionProfiles(
            pattern_names,
            kind_names,
            workflows,
            deployed,
            failed,
            _pairs_in(pattern_pairs, start, end),
            (kind_rows, kind_codes),
        )


def _names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(f"SELECT name FROM {table} ORDER BY code").fetchall()
    return [str(row[0]) for row in rows]


def _pairs_in(pairs: dict[str, Any], start: int, end: int) -> tuple[Ints, Ints]:
    """The pairs (r, code) of the rows numbered [start, end) as int64 arrays, rows renumbered
    from 0 (`pairs` is sorted by r)."""
    first, last = np.searchsorted(pairs["r"], [start, end])
    rows = np.asarray(pairs["r"][first:last], dtype=np.int64) - start
    return rows, np.asarray(pairs["code"][first:last], dtype=np.int64)


def _common_additions(con: duckdb.DuckDBPyConnection, reports: Reports, periods: bool) -> None:
    additions: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    owners: dict[int, UsageReport] = {}
    target = _targets(reports)
    for row in con.execute(_grouped(_COMMON_ADDITIONS, "id, kind", periods)).fetchall():
        report = target(row)
        if report is not None:
            item_id, kind, count = row[_SCOPE_COLUMNS:]
            owners[id(report)] = report
            kinds = additions[(id(report), item_id)]
            kept = _redacted(kind)
            kinds[kept] = kinds.get(kept, 0) + int(count)
    for (key, item_id), kinds in additions.items():
        owners[key].patterns[item_id].common_additions = _most_common(kinds)


def _co_usage(reports: Reports) -> None:
    """Pairs of knowledge-base patterns in the same latest solution, from each report's profiles."""
    for report in reports.values():
        report.co_usage = [PairUsage(a, b, n) for a, b, n in co_used(report.solution_profiles)]


def _setting(path: str, text: str | None) -> tuple[str, SettingValue]:
    """A setting as it may be kept: path redacted, and the value redacted, or replaced by a
    marker when the path names a secret (a password is never evidence, whatever it looks like)."""
    value: SettingValue = None if text is None else json.loads(text)
    # A true/false flag (`automountServiceAccountToken: false`) cannot carry a secret.
    if names_a_secret(path) and not isinstance(value, bool):
        value = SECRET_VALUE
    elif isinstance(value, str):
        value = _redacted(value)
    return _redacted(path), value


def _settings(con: duckdb.DuckDBPyConnection, reports: Reports, periods: bool) -> None:
    sql = _SETTING_PAIRS + _grouped(
        _SETTINGS, "path, value", periods, kind_keys="path, value, kind"
    )
    # Keyed by the kept (redacted) setting: two secrets become one entry, their counts added
    # (each workflow has one value per path, so the sums still count workflows).
    found: dict[int, dict[str, SettingUsage]] = defaultdict(dict)
    kinds: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    owners: dict[int, UsageReport] = {}
    target = _targets(reports)
    for row in con.execute(sql).fetchall():
        report = target(row)
        if report is None:
            continue
        raw_path, raw_value, kind, count = row[_SCOPE_COLUMNS:]
        path, value = _setting(str(raw_path), raw_value)
        key = json.dumps([path, value])
        owners[id(report)] = report
        if kind is None:
            usage = found[id(report)].get(key)
            if usage is None:
                found[id(report)][key] = SettingUsage(path=path, value=value, deployed_workflows=0)
                usage = found[id(report)][key]
            usage.deployed_workflows += int(count)
        else:
            kinds[(id(report), key)][_redacted(str(kind))] += int(count)
    for owner, settings in found.items():
        for key, usage in settings.items():
            usage.kinds = dict(sorted(kinds[(owner, key)].items()))
        owners[owner].settings = sorted(
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
    for row in rows:
        workflow_id, intent, patterns, kinds, status, cluster, period, ts = row[:8]
        overall, in_cluster, in_period = row[8:]
        best_id, best_score = _best(patterns or [])
        status_value: OutcomeStatus | None = status
        weak_intent = WeakIntent(
            workflow_id=redact(workflow_id),
            intent=_shorten(redact(intent or ""), options.max_intent_length),
            best_pattern=None if best_id is None else _redacted(best_id),
            best_score=best_score,
            kinds=[_redacted(str(k)) for k in kinds or []],
            status=status_value,
            cluster=cluster,
            ts=_utc(ts) or dt.datetime.min.replace(tzinfo=dt.UTC),
        )
        if overall <= limit:
            reports[None].weak_intents.append(weak_intent)
        if cluster is not None and in_cluster <= limit:
            reports[("cluster", cluster)].weak_intents.append(weak_intent)
        if period is not None and in_period <= limit:
            reports[("period", period)].weak_intents.append(weak_intent)


def aggregate_usage(
    con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, options: AggregationOptions
) -> UsageReport:
    """The usage report of the valid, deduplicated lines of `log_lines`, filtered by `options`.

    Includes one breakdown per cluster (by the cluster of each workflow's latest event) and, when
    the logs span more than options.recent_days, the recent and earlier periods.
    """
    _load_kb(con, kb)
    periods = _prepare(con, options)
    reports = _totals(con, kb, periods)
    _items(con, reports, options.strong_match_threshold, periods)
    _common_additions(con, reports, periods)
    if options.learning_inputs:
        _failed_items(con, reports, options, periods)
        _uses_by_day(con, reports, periods)
        _outcomes_by_day(con, reports, periods)
        _profiles(con, reports, periods)
        _co_usage(reports)
        _settings(con, reports, periods)
        _weak_intents(con, reports, options)
    report = reports.pop(None)
    report.clusters = {
        scope[1]: reports[scope]
        for scope in sorted(s for s in reports if s is not None and s[0] == "cluster")
    }
    report.periods = {
        name: reports[("period", name)]
        for name in ("recent", "earlier")
        if ("period", name) in reports
    }
    return report
