"""Reading workflow log lines into DuckDB and checking each one against the v1 format there.

Lines are read as raw text (one VARCHAR column, no quoting) so that every line keeps its file and
line number, then checked with DuckDB's JSON functions: a Python loop over a million lines would
be the bottleneck. The rules mirror `EVENT_ADAPTER.validate_json(line, strict=True)` from
bot/logs/events.py; tests/test_aggregate_properties.py checks that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from bot.errors import LogFormatError
from bot.logs.reader import LogFile

# JSON text cannot hold a raw control character, so no valid line contains this delimiter.
_DELIMITER = "\\x01"
_MAX_LINE_BYTES = 64 * 1024 * 1024

# Top-level keys read from each line, in this order. The snake_case spellings are accepted
# because the reference model has populate_by_name; the camelCase spelling wins when both exist.
_PATHS = (
    "v", "eventId", "event_id", "workflowId", "workflow_id", "workflow", "type", "ts", "cluster",
    "intent", "patterns", "policies", "patternsUsed", "patterns_used", "policiesApplied",
    "policies_applied", "resources", "settings", "status", "error",
)  # fmt: skip

# Wildcard paths read every element of a list in one pass; they skip elements that lack the key,
# so "every element has it" is a count equal to the list length.
_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pb_is_num(x) AS json_type(x) IN ('BIGINT', 'UBIGINT', 'DOUBLE');
CREATE OR REPLACE TEMP MACRO pb_nonempty(x) AS json_type(x) = 'VARCHAR' AND x::VARCHAR <> '""';
CREATE OR REPLACE TEMP MACRO pb_opt_text(x) AS x IS NULL OR json_type(x) IN ('VARCHAR', 'NULL');
CREATE OR REPLACE TEMP MACRO pb_all(xs, wanted) AS
    coalesce(list_bool_and(list_transform(xs, lambda t: list_contains(wanted, t))), true);
CREATE OR REPLACE TEMP MACRO pb_count(xs, wanted) AS
    len(list_filter(xs, lambda t: list_contains(wanted, t)));
CREATE OR REPLACE TEMP MACRO pb_scores_ok(x) AS x IS NULL OR (json_type(x) = 'ARRAY'
    AND pb_all(json_type(x, '$[*]'), ['OBJECT'])
    AND pb_count(json_type(x, '$[*].id'), ['VARCHAR']) = json_array_length(x)
    AND NOT list_contains(json_extract_string(x, '$[*].id'), '')
    AND pb_count(json_type(x, '$[*].score'), ['BIGINT', 'UBIGINT', 'DOUBLE'])
        = json_array_length(x));
CREATE OR REPLACE TEMP MACRO pb_names_ok(x) AS x IS NULL OR (json_type(x) = 'ARRAY'
    AND pb_all(json_type(x, '$[*]'), ['VARCHAR'])
    AND NOT list_contains(json_extract_string(x, '$[*]'), ''));
CREATE OR REPLACE TEMP MACRO pb_resources_ok(x) AS x IS NULL OR (json_type(x) = 'ARRAY'
    AND pb_all(json_type(x, '$[*]'), ['OBJECT'])
    AND pb_count(json_type(x, '$[*].kind'), ['VARCHAR']) = json_array_length(x)
    AND NOT list_contains(json_extract_string(x, '$[*].kind'), '')
    AND pb_all(json_type(x, '$[*].apiVersion'), ['VARCHAR', 'NULL'])
    AND pb_all(json_type(x, '$[*].api_version'), ['VARCHAR', 'NULL'])
    AND pb_all(json_type(x, '$[*].name'), ['VARCHAR', 'NULL']));
CREATE OR REPLACE TEMP MACRO pb_settings_ok(x) AS x IS NULL OR (json_type(x) = 'OBJECT'
    AND NOT list_contains(json_type(x, '$.*'), 'ARRAY')
    AND NOT list_contains(json_type(x, '$.*'), 'OBJECT'));
"""

# RFC 3339 as pydantic (speedate) reads it: 'T', 't', ' ' or '_' between date and time, optional
# seconds and fraction ('.' or ','), and an offset that is Z, z, +HH:MM or +HHMM.
_TS_PATTERN = (
    r"^(\d{4}-\d{2}-\d{2})[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)
_TS_GROUPS = "['date', 'hh', 'mi', 'ss', 'frac', 'zulu', 'sign', 'oh', 'om']"


def _lines_query(files: Sequence[LogFile]) -> str:
    paths = ", ".join(_quote(str(f.path)) for f in files)
    return (
        f"SELECT file_index, row_number() OVER () AS rn, line FROM read_csv([{paths}], "
        f"columns = {{'line': 'VARCHAR'}}, delim = '{_DELIMITER}', quote = '', escape = '', "
        f"header = false, auto_detect = false, strict_mode = false, compression = 'auto', "
        # '\\r\\n' splits at LF and CRLF alike, so mixed line endings keep their line numbers.
        f"new_line = '\\r\\n', "
        f"max_line_size = {_MAX_LINE_BYTES})"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_CHECKED = f"""
WITH raw AS ({{lines}}),
valid AS (
    -- Blank lines are skipped; only lines that are not JSON need the (slower) trim.
    SELECT *, CASE WHEN is_json THEN false ELSE coalesce(trim(line, ' \t\r\n') = '', true) END
        AS blank
    FROM (SELECT *, coalesce(json_valid(line), false) AS is_json FROM raw)
),
parsed AS (
    SELECT *,
        CASE WHEN is_json AND json_type(line) = 'OBJECT'
            THEN json_extract(line, [{", ".join(_quote("$." + p) for p in _PATHS)}]) END AS j
    FROM valid
),
fields AS (
    SELECT file_index, rn, line, blank, is_json, j IS NOT NULL AS is_object,
        j[1] AS v, coalesce(j[2], j[3]) AS eid, coalesce(j[4], j[5]) AS wid, j[6] AS wf,
        j[7] AS typ, j[8] AS ts, j[9] AS cluster, j[10] AS intent, j[11] AS pats,
        j[12] AS pols, coalesce(j[13], j[14]) AS used, coalesce(j[15], j[16]) AS applied,
        j[17] AS res, j[18] AS settings, j[19] AS status, j[20] AS err
    FROM parsed
),
typed AS (
    SELECT *, json_extract_string(typ, '$') AS type_name,
        CASE WHEN json_type(ts) = 'VARCHAR' THEN
            regexp_extract(json_extract_string(ts, '$'), '{_TS_PATTERN}', {_TS_GROUPS}) END AS tsp
    FROM fields
),
stamped AS (
    SELECT *,
        CASE WHEN tsp.date <> '' THEN
            (tsp.zulu <> '' OR tsp.sign <> '') END AS ts_has_offset,
        CASE WHEN tsp.date <> ''
                AND try_cast(tsp.hh AS INT) <= 23 AND try_cast(tsp.mi AS INT) <= 59
                AND coalesce(try_cast(tsp.ss AS INT), 0) <= 59
                AND coalesce(try_cast(tsp.oh AS INT), 0) <= 23
                AND coalesce(try_cast(tsp.om AS INT), 0) <= 59
            THEN try_cast(tsp.date || ' ' || tsp.hh || ':' || tsp.mi || ':'
                    || (CASE WHEN tsp.ss = '' THEN '00' ELSE tsp.ss END)
                    || '.' || left(tsp.frac || '000000', 6) AS TIMESTAMP)
                - to_minutes(CASE WHEN tsp.sign = '' THEN 0 ELSE
                    (CASE WHEN tsp.sign = '-' THEN -1 ELSE 1 END)
                    * (try_cast(tsp.oh AS INT) * 60 + try_cast(tsp.om AS INT)) END)
        END AS ts_utc
    FROM typed
)
SELECT file_index, rn,
    CASE
        WHEN blank THEN NULL
        WHEN NOT is_json THEN 'not valid JSON'
        WHEN NOT is_object THEN 'not a JSON object'
        WHEN v IS NULL THEN 'missing field ''v'''
        WHEN NOT (pb_is_num(v) AND coalesce(try_cast(v::VARCHAR AS DOUBLE), 0) = 1)
            AND v::VARCHAR <> 'true'
            THEN 'unsupported version v=' || v::VARCHAR || ' (this reader knows v=1)'
        WHEN eid IS NULL THEN 'missing field ''eventId'''
        WHEN NOT pb_nonempty(eid) THEN '''eventId'' must be a non-empty string'
        WHEN wid IS NULL THEN 'missing field ''workflowId'''
        WHEN NOT pb_nonempty(wid) THEN '''workflowId'' must be a non-empty string'
        WHEN wf IS NULL THEN 'missing field ''workflow'''
        WHEN wf::VARCHAR NOT IN ('"recommend"', '"operate"')
            THEN '''workflow'' must be ''recommend'' or ''operate'''
        WHEN typ IS NULL THEN 'missing field ''type'''
        WHEN json_type(typ) <> 'VARCHAR' OR type_name NOT IN ('retrieved', 'solution', 'outcome')
            THEN 'unknown event type ' || typ::VARCHAR
        WHEN ts IS NULL THEN 'missing field ''ts'''
        WHEN ts_has_offset IS NULL OR (ts_has_offset AND ts_utc IS NULL)
            THEN '''ts'' is not an RFC 3339 time: ' || ts::VARCHAR
        WHEN NOT ts_has_offset THEN '''ts'' has no UTC offset: ' || ts::VARCHAR
        WHEN NOT pb_opt_text(cluster) THEN '''cluster'' must be a string'
        WHEN type_name = 'retrieved' AND intent IS NULL THEN 'missing field ''intent'''
        WHEN type_name = 'retrieved' AND json_type(intent) <> 'VARCHAR'
            THEN '''intent'' must be a string'
        WHEN type_name = 'retrieved' AND NOT pb_scores_ok(pats)
            THEN '''patterns'' must be a list of {{id, score}}'
        WHEN type_name = 'retrieved' AND NOT pb_scores_ok(pols)
            THEN '''policies'' must be a list of {{id, score}}'
        WHEN type_name = 'solution' AND NOT pb_names_ok(used)
            THEN '''patternsUsed'' must be a list of non-empty strings'
        WHEN type_name = 'solution' AND NOT pb_names_ok(applied)
            THEN '''policiesApplied'' must be a list of non-empty strings'
        WHEN type_name = 'solution' AND NOT pb_resources_ok(res)
            THEN '''resources'' must be a list of {{kind, apiVersion?, name?}}'
        WHEN type_name = 'solution' AND NOT pb_settings_ok(settings)
            THEN '''settings'' must be a map of setting path to scalar value'
        WHEN type_name = 'outcome' AND status IS NULL THEN 'missing field ''status'''
        WHEN type_name = 'outcome'
            AND status::VARCHAR NOT IN ('"deployed"', '"failed"', '"abandoned"')
            THEN '''status'' must be deployed, failed or abandoned'
        WHEN type_name = 'outcome' AND NOT pb_opt_text(err) THEN '''error'' must be a string'
    END AS reason,
    blank, line, eid, wid, type_name, ts_utc, cluster, intent, pats, pols, used, applied, res,
    settings, status
FROM stamped
"""

_LOAD = """
CREATE OR REPLACE TEMP TABLE log_lines AS
SELECT file_index, rn, reason, blank,
    CASE WHEN reason IS NOT NULL THEN line END AS raw,
    CASE WHEN reason IS NULL THEN json_extract_string(eid, '$') END AS event_id,
    CASE WHEN reason IS NULL THEN json_extract_string(wid, '$') END AS workflow_id,
    CASE WHEN reason IS NULL THEN type_name END AS type,
    CASE WHEN reason IS NULL THEN ts_utc END AS ts,
    CASE WHEN reason IS NULL THEN json_extract_string(cluster, '$') END AS cluster,
    CASE WHEN reason IS NULL THEN hash(line) END AS content,
    CASE WHEN reason IS NULL AND type_name = 'retrieved'
        THEN json_extract_string(intent, '$') END AS intent,
    CASE WHEN reason IS NULL AND type_name = 'retrieved'
        THEN from_json(coalesce(pats, '[]'), '[{"id": "VARCHAR", "score": "DOUBLE"}]') END
        AS patterns,
    CASE WHEN reason IS NULL AND type_name = 'retrieved'
        THEN from_json(coalesce(pols, '[]'), '[{"id": "VARCHAR", "score": "DOUBLE"}]') END
        AS policies,
    CASE WHEN reason IS NULL AND type_name = 'solution'
        THEN from_json(coalesce(used, '[]'), '["VARCHAR"]') END AS patterns_used,
    CASE WHEN reason IS NULL AND type_name = 'solution'
        THEN from_json(coalesce(applied, '[]'), '["VARCHAR"]') END AS policies_applied,
    CASE WHEN reason IS NULL AND type_name = 'solution'
        THEN list_transform(
            from_json(coalesce(res, '[]'), '[{"kind": "VARCHAR"}]'), lambda r: r.kind)
        END AS kinds,
    CASE WHEN reason IS NULL AND type_name = 'solution' THEN settings END AS settings,
    CASE WHEN reason IS NULL AND type_name = 'outcome'
        THEN json_extract_string(status, '$') END AS status
FROM ({checked})
"""

_FILE_STARTS = """
CREATE OR REPLACE TEMP TABLE log_file_starts AS
SELECT file_index, min(rn) AS first_rn FROM ({lines}) GROUP BY file_index
"""


_NO_LINES = "SELECT 0 AS file_index, 0::BIGINT AS rn, NULL::VARCHAR AS line WHERE false"


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the SQL macros the line checks use on this connection."""
    con.execute(_MACROS)


def checked_lines_sql(lines_sql: str) -> str:
    """A query giving (file_index, rn, reason, line, ...) for the raw lines of `lines_sql`.

    `lines_sql` yields (file_index, rn, line); `reason` is NULL for a valid v1 event.
    """
    return _CHECKED.replace("{lines}", lines_sql)


_UTF8_ERROR = re.compile(r"CSV Error on Line: (\d+)")
_FILE_IN_ERROR = re.compile(r"^\s*file = (.*)$", re.MULTILINE)


def _translate(exc: duckdb.Error, files: Sequence[LogFile]) -> LogFormatError:
    message = str(exc)
    by_path = {str(f.path): f.shown for f in files}
    named = _FILE_IN_ERROR.search(message)
    shown = by_path.get(named.group(1).strip(), named.group(1).strip()) if named else None
    if "GZIP" in message.upper() or "gzip" in message:
        culprit = next((f.shown for f in files if str(f.path) in message), shown or "a log file")
        return LogFormatError(f"{culprit}: not a readable gzip file (truncated or corrupt)")
    line = _UTF8_ERROR.search(message)
    if "unicode" in message.lower() and shown:
        where = f"{shown}:{line.group(1)}" if line else shown
        return LogFormatError(f"{where}: not UTF-8 text; the file was not read")
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return LogFormatError(f"{shown or 'workflow logs'}: cannot be read: {first}")


def load_lines(con: duckdb.DuckDBPyConnection, files: Sequence[LogFile]) -> None:
    """Read and check every line of `files` into the temp tables log_lines and log_file_starts."""
    install_macros(con)
    lines = _lines_query(files) if files else _NO_LINES
    try:
        con.execute(_LOAD.replace("{checked}", checked_lines_sql(lines)))
        con.execute(_FILE_STARTS.replace("{lines}", "SELECT file_index, rn FROM log_lines"))
    except duckdb.Error as exc:
        raise _translate(exc, files) from exc
