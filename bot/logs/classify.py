"""Reading workflow log lines into DuckDB and checking each one against the v1 format there.

Lines are read as raw text (one VARCHAR column, no quoting) so that every line keeps its file and
line number, then checked with DuckDB's JSON functions: a Python loop over a million lines would
be the bottleneck. The rules mirror `EVENT_ADAPTER.validate_json(line, strict=True)` from
bot/logs/events.py; tests/test_aggregate_properties.py checks that the two agree.

Two passes keep this fast: every line is parsed once and accepted at once when it has the plain
shape writers produce (the fast check); only the lines that fail it are checked field by field,
which is what gives a rejected line its reason. The fast check accepts nothing the field-by-field
check rejects (a property test holds it to that), so the result is the same as checking every line
the slow way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from bot.errors import LogFormatError
from bot.logs.reader import LogFile

# JSON text cannot hold a raw control character, so no valid line contains this delimiter.
_DELIMITER = "\\x01"
# Each reading thread holds one buffer, which must be larger than the longest line. DuckDB's
# default buffer is 16 x max_line_size: with 64 MiB lines two threads asked for 2 GiB and ran out
# of memory, so the buffer is set to twice the line limit.
_MAX_LINE_BYTES = 16 * 1024 * 1024
_BUFFER_BYTES = 2 * _MAX_LINE_BYTES

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
    AND NOT list_contains(json_type(x, '$.*'), 'OBJECT')
    AND len(json_keys(x)) = len(list_distinct(json_keys(x))));
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
        f"SELECT file_index, line FROM read_csv([{paths}], "
        f"columns = {{'line': 'VARCHAR'}}, delim = '{_DELIMITER}', quote = '', escape = '', "
        f"header = false, auto_detect = false, strict_mode = false, compression = 'auto', "
        # '\\r\\n' splits at LF and CRLF alike, so mixed line endings keep their line numbers.
        f"new_line = '\\r\\n', "
        f"max_line_size = {_MAX_LINE_BYTES}, buffer_size = {_BUFFER_BYTES})"
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
            THEN '''settings'' must be a map of distinct setting paths to scalar values'
        WHEN type_name = 'outcome' AND status IS NULL THEN 'missing field ''status'''
        WHEN type_name = 'outcome'
            AND status::VARCHAR NOT IN ('"deployed"', '"failed"', '"abandoned"')
            THEN '''status'' must be deployed, failed or abandoned'
        WHEN type_name = 'outcome' AND NOT pb_opt_text(err) THEN '''error'' must be a string'
    END AS reason,
    blank, line, eid, wid, type_name, ts_utc, cluster, intent, pats, pols, used, applied, res,
    settings, status, err
FROM stamped
"""

_LOAD = """
CREATE OR REPLACE TEMP TABLE {table} AS
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
        THEN json_extract_string(status, '$') END AS status,
    CASE WHEN reason IS NULL AND type_name = 'outcome'
        THEN json_extract_string(err, '$') END AS error
FROM ({checked})
"""

_FILE_STARTS = """
CREATE OR REPLACE TEMP TABLE log_file_starts AS
SELECT file_index, min(rn) AS first_rn FROM ({lines}) GROUP BY file_index
"""


# The fast check. from_json gives each top-level value as minified JSON text (one parse per line;
# a missing key and a JSON null both give NULL), so a value's type shows in its first character and
# simple lists can be checked with one regular expression. Strings holding a quote or a backslash,
# other key orders, extra keys in list elements, exponents and the like fall to the slow check.
_FAST_KEYS = (
    "v", "eventId", "workflowId", "workflow", "type", "ts", "cluster", "intent", "patterns",
    "policies", "patternsUsed", "policiesApplied", "resources", "settings", "status", "error",
)  # fmt: skip
_FAST_STRUCT = "{" + ", ".join(f'"{key}": "JSON"' for key in _FAST_KEYS) + "}"
_TEXT = r'"[^"\\]*"'
_NAME = r'"[^"\\]+"'
_NUMBER = r"-?\d{1,15}(\.\d{1,17})?"


def _list_of(element: str) -> str:
    return rf"\[({element}(,{element})*)?\]"


def _entry(key: str, value: str) -> str:
    return f'"{key}":{value}'


_SCORES = _list_of(r"\{" + _entry("id", _NAME) + "," + _entry("score", _NUMBER) + r"\}")
_NAMES = _list_of(_NAME)
_RESOURCES = _list_of(
    r"\{" + _entry("kind", _NAME) + f"(,{_entry('apiVersion', _TEXT)})?"
    f"(,{_entry('name', _TEXT)})?" + r"\}"
)
_SCALAR = f"({_TEXT}|{_NUMBER}|true|false|null)"
_SETTINGS = r"\{(" + f"{_TEXT}:{_SCALAR}(,{_TEXT}:{_SCALAR})*" + r")?\}"
# Years 1900-2099 only, so that the conversion to UTC can never leave the calendar.
_FAST_TS = (
    r'"(19|20)\d\d-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?'
    r'(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"'
)

_FAST_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pb_text(x) AS
    CASE WHEN contains(x, '\') THEN json_extract_string(x, '$') ELSE x[2:-2] END;
CREATE OR REPLACE TEMP MACRO pb_fast_ts(x) AS
    make_timestamp(epoch_us(try_cast(x[2:-2] AS TIMESTAMPTZ)));
"""

_FAST = f"""
CREATE OR REPLACE TEMP TABLE log_scan AS
WITH raw AS ({{lines}}),
parsed AS (
    SELECT file_index, line, j, pb_fast_ts(j.ts) AS ts_utc
    FROM (SELECT file_index, line, try(from_json(line, '{_FAST_STRUCT}')) AS j FROM raw)
),
judged AS (
    SELECT file_index, line, j, ts_utc, coalesce(j.v = '1'
        AND starts_with(j.eventId, '"') AND j.eventId <> '""'
        AND starts_with(j.workflowId, '"') AND j.workflowId <> '""'
        AND j.workflow IN ('"recommend"', '"operate"')
        AND regexp_full_match(j.ts, {_quote(_FAST_TS)}) AND ts_utc IS NOT NULL
        AND (j.cluster IS NULL OR starts_with(j.cluster, '"'))
        AND CASE j.type
            WHEN '"retrieved"' THEN starts_with(j.intent, '"')
                AND regexp_full_match(j.patterns, {_quote(_SCORES)})
                AND regexp_full_match(j.policies, {_quote(_SCORES)})
            WHEN '"solution"' THEN regexp_full_match(j.patternsUsed, {_quote(_NAMES)})
                AND regexp_full_match(j.policiesApplied, {_quote(_NAMES)})
                AND regexp_full_match(j.resources, {_quote(_RESOURCES)})
                AND regexp_full_match(j.settings, {_quote(_SETTINGS)})
                AND len(json_keys(j.settings)) = len(list_distinct(json_keys(j.settings)))
            WHEN '"outcome"' THEN j.status IN ('"deployed"', '"failed"', '"abandoned"')
                AND (j.error IS NULL OR starts_with(j.error, '"'))
            ELSE false
        END, false) AS ok
    FROM parsed
)
SELECT file_index,
    -- Lines that fail the fast check are marked and keep their text for the slow check.
    CASE WHEN NOT ok THEN '{{unchecked}}' END AS reason,
    false AS blank,
    CASE WHEN NOT ok THEN line END AS raw,
    CASE WHEN ok THEN pb_text(j.eventId) END AS event_id,
    CASE WHEN ok THEN pb_text(j.workflowId) END AS workflow_id,
    CASE WHEN ok THEN j.type[2:-2] END AS type,
    CASE WHEN ok THEN ts_utc END AS ts,
    CASE WHEN ok THEN pb_text(j.cluster) END AS cluster,
    CASE WHEN ok THEN hash(line) END AS content,
    CASE WHEN ok AND j.type = '"retrieved"' THEN pb_text(j.intent) END AS intent,
    CASE WHEN ok AND j.type = '"retrieved"'
        THEN from_json(j.patterns, '[{{"id": "VARCHAR", "score": "DOUBLE"}}]') END AS patterns,
    CASE WHEN ok AND j.type = '"retrieved"'
        THEN from_json(j.policies, '[{{"id": "VARCHAR", "score": "DOUBLE"}}]') END AS policies,
    CASE WHEN ok AND j.type = '"solution"'
        THEN from_json(j.patternsUsed, '["VARCHAR"]') END AS patterns_used,
    CASE WHEN ok AND j.type = '"solution"'
        THEN from_json(j.policiesApplied, '["VARCHAR"]') END AS policies_applied,
    CASE WHEN ok AND j.type = '"solution"'
        THEN list_transform(from_json(j.resources, '[{{"kind": "VARCHAR"}}]'), lambda r: r.kind)
        END AS kinds,
    CASE WHEN ok AND j.type = '"solution"' THEN j.settings END AS settings,
    CASE WHEN ok AND j.type = '"outcome"' THEN j.status[2:-2] END AS status,
    CASE WHEN ok AND j.type = '"outcome"' THEN pb_text(j.error) END AS error
FROM judged
"""

# An internal reason: the line awaits the slow check (never left in log_lines after load_lines).
UNCHECKED = "?"


def fast_lines_sql(lines_sql: str) -> str:
    """The statement creating log_scan from `lines_sql` (file_index, line) with the fast check only.

    Rows keep the order of `lines_sql`. Lines it cannot accept have reason UNCHECKED and their
    text in `raw`.
    """
    return _FAST.replace("{lines}", lines_sql).replace("{unchecked}", UNCHECKED)


_NO_LINES = "SELECT 0 AS file_index, NULL::VARCHAR AS line WHERE false"


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the SQL macros the line checks use on this connection."""
    con.execute(_MACROS)
    con.execute(_FAST_MACROS)


def field_by_field_sql(table: str, lines_sql: str) -> str:
    """The statement creating temp table `table` from the lines of `lines_sql`, each checked field
    by field: the columns of log_lines, `reason` NULL for a valid event."""
    return _LOAD.replace("{table}", table).replace("{checked}", checked_lines_sql(lines_sql))


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
    """Read and check every line of `files` into the temp view log_lines and table log_file_starts.

    log_lines has one row per line: `rn` counts lines across all files in order, from 1.
    """
    install_macros(con)
    lines = _lines_query(files) if files else _NO_LINES
    try:
        con.execute(fast_lines_sql(lines))
        _check_the_rest(con)
        con.execute(_FILE_STARTS.replace("{lines}", "SELECT file_index, rn FROM log_lines"))
    except duckdb.Error as exc:
        raise _translate(exc, files) from exc


def _check_the_rest(con: duckdb.DuckDBPyConnection) -> None:
    """Give the lines the fast check left unchecked their field-by-field verdict; view log_lines."""
    # row_number() OVER () would make the scan single-threaded; an order-preserving CREATE TABLE
    # AS keeps the lines in file order, so a row's rowid is its position (DuckDB's documented
    # order preservation, with preserve_insertion_order on).
    numbered = "SELECT rowid + 1 AS rn, * FROM log_scan"
    unchecked = f"reason = {_quote(UNCHECKED)}"
    row = con.execute(f"SELECT count(*) FROM log_scan WHERE {unchecked}").fetchone()
    if not row or not row[0]:
        con.execute(f"CREATE OR REPLACE TEMP VIEW log_lines AS {numbered}")
        return
    lines = f"SELECT file_index, rn, raw AS line FROM ({numbered}) WHERE {unchecked}"
    con.execute(field_by_field_sql("log_rechecked", lines))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW log_lines AS {numbered} "
        f"WHERE reason IS DISTINCT FROM {_quote(UNCHECKED)} "
        "UNION ALL BY NAME SELECT * FROM log_rechecked"
    )
