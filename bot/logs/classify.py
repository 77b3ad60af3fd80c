"""Reading workflow log lines into DuckDB and checking each one against the v1 format there.

Lines are read as raw text (one VARCHAR column, no quoting) so that every line keeps its file and
line number, then checked with DuckDB's JSON functions: a Python loop over a million lines would
be the bottleneck. The rules mirror `is_valid_line` from bot/logs/events.py (the reference model);
tests/test_aggregate_properties.py checks that the two agree. After loading, every file's bytes
must be accounted for by the lines read (check_every_byte_read): a reader that drops a line fails
the run instead of losing an event.

Two passes keep this fast: every line is parsed once and accepted at once when it has the plain
shape writers produce (the fast check); only the lines that fail it are checked field by field,
which is what gives a rejected line its reason. The fast check accepts nothing the field-by-field
check rejects (a property test holds it to that), so the result is the same as checking every line
the slow way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
from duckdb.sqltypes import INTEGER, VARCHAR

from bot.errors import LogFormatError
from bot.logs.events import MAX_DEPTH, json_depth
from bot.logs.reader import LogFile
from bot.logs.sources import BOM, MIN_PIECE_BYTES, PlainFile, prepare

# The column delimiter of the line reader: raw control characters, which no valid JSON line
# contains (not the four characters of the text \x01, which a JSON string may well hold). An
# invalid line would have to hold these four bytes in this order to be cut, and the byte
# invariant would then stop the run.
_DELIMITER = "\x01\x02\x03\x04"
# Lines longer than this are rejected (`line longer than N bytes`) and quarantined; the others are
# read. The reader's own limit is two bytes higher, so that a line it hands over can still be
# measured against this one whatever its line ending.
MAX_LINE_BYTES = 16 * 1024 * 1024
# How many pieces per DuckDB thread large logs are read in (bot/logs/sources.py).
PIECES_PER_THREAD = 4


def default_buffer_bytes(max_line_bytes: int) -> int:
    """DuckDB's read buffer: it must be larger than the longest line it accepts."""
    return 2 * (max_line_bytes + 2)


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
CREATE OR REPLACE TEMP MACRO pb_first_repeat(xs) AS
    list_filter(xs, lambda k, i: list_position(xs, k) < i)[1];
CREATE OR REPLACE TEMP MACRO pb_repeats_in_items(x) AS x IS NOT NULL AND json_type(x) = 'ARRAY'
    AND coalesce(list_bool_or(list_transform(json_keys(x, '$[*]'),
        lambda ks: len(ks) <> len(list_distinct(ks)))), false);
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


@dataclass(frozen=True)
class LongLine:
    """A line too long for the reader: rejected, and kept whole for the quarantine."""

    file_index: int
    line: int
    reason: str
    text: str
    bytes: int


_REJECTS = "rejects_table = 'pb_reject_errors', rejects_scan = 'pb_reject_scans'"


def _lines_query(files: Sequence[PlainFile], max_line_bytes: int, buffer_bytes: int) -> str:
    """DuckDB's CSV reader as a line reader: one VARCHAR column, no quoting.

    `parallel = false`: the parallel reader loses a line, or stops with "does not support a full
    read", when a line feed falls exactly on one of its internal boundaries (DuckDB 1.x-2.0);
    the single-threaded reader has no such boundary (tests/test_logs_boundaries.py). Files are
    still read side by side. A line the reader cannot take (too long, not UTF-8) is skipped and
    recorded in the rejects tables, which load_lines turns into exact verdicts.
    """
    paths = ", ".join(_quote(str(f.path)) for f in files)
    return (
        f"SELECT file_index, line FROM read_csv([{paths}], "
        f"columns = {{'line': 'VARCHAR'}}, delim = '{_DELIMITER}', quote = '', escape = '', "
        f"header = false, auto_detect = false, strict_mode = false, "
        # '\\r\\n' splits at LF and CRLF alike, so mixed line endings keep their line numbers.
        f"new_line = '\\r\\n', parallel = false, ignore_errors = true, store_rejects = true, "
        f"{_REJECTS}, max_line_size = {max_line_bytes + 2}, buffer_size = {buffer_bytes})"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Enough opening brackets (inside strings or not) for a line to be nested too deep.
_MANY_OPENERS = r"(?:[\[{][^\[{]*){" + str(MAX_DEPTH + 1) + "}"

_CHECKED = f"""
WITH raw AS ({{lines}}),
valid AS (
    -- Blank lines are skipped; only lines that are not JSON need the (slower) trim.
    SELECT *, CASE WHEN is_json THEN false ELSE coalesce(trim(line, ' \t\r\n') = '', true) END
        AS blank
    FROM (SELECT *, coalesce(json_valid(line), false) AS is_json FROM raw)
),
objects AS (
    -- json_type once, and only on JSON: a repeated expression would be computed for every row.
    SELECT *, coalesce(CASE WHEN is_json THEN json_type(line) = 'OBJECT' END, false) AS is_obj
    FROM valid
),
parsed AS (
    SELECT *,
        CASE WHEN is_obj
            THEN json_extract(line, [{", ".join(_quote("$." + p) for p in _PATHS)}]) END AS j,
        json_keys(CASE WHEN is_obj THEN line ELSE '{{}}' END) AS keys,
        -- Depth is measured exactly (in Python) only for lines with enough brackets to be deep.
        pb_depth(CASE WHEN is_json AND regexp_matches(line, {_quote(_MANY_OPENERS)})
            THEN line ELSE '' END) > {{max_depth}} AS nested_too_deep
    FROM objects
),
fields AS (
    SELECT file_index, rn, line, blank, is_json, j IS NOT NULL AS is_object, keys,
        nested_too_deep,
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
        WHEN strlen(line) > {{max_line}} THEN 'line longer than {{max_line}} bytes'
        WHEN NOT is_json THEN 'not valid JSON'
        WHEN NOT is_object THEN 'not a JSON object'
        WHEN nested_too_deep THEN 'nested deeper than {{max_depth}} levels'
        WHEN len(keys) <> len(list_distinct(keys))
            THEN 'duplicate key ' || to_json(pb_first_repeat(keys))
        WHEN pb_repeats_in_items(pats) OR pb_repeats_in_items(pols) OR pb_repeats_in_items(res)
            THEN 'duplicate key in a list item'
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
        WHEN ts_utc < TIMESTAMP '0001-01-01' OR ts_utc >= TIMESTAMP '10000-01-01'
            THEN '''ts'' is outside years 1-9999 in UTC: ' || ts::VARCHAR
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


# The fast check: one from_json per line (a missing key and a JSON null both give NULL). The lists,
# `settings` and the free text come as minified JSON text, so a value's type shows in its first
# character and simple lists can be checked with one regular expression each. The other fields
# (ids, words, the time) are read as VARCHAR, which is cheaper than JSON text, and each is held to
# something only a JSON string's value can satisfy: DuckDB gives a number, boolean, list or object
# there as its JSON text, which is not one of the words `workflow`, `type` and `status` allow,
# does not match the time pattern, and fails pb_was_string (`v` must be '1': the number 1, or a
# quoted "1" that the length check below refuses). Escapes outside the free text, other key
# orders, extra keys in list elements, exponents and the like fall to the slow check.
_FAST_KEYS = (
    "v", "eventId", "workflowId", "workflow", "type", "ts", "cluster", "intent", "patterns",
    "policies", "patternsUsed", "policiesApplied", "resources", "settings", "status", "error",
)  # fmt: skip
# Free text (`intent`, `error`) often holds a quote or a line feed: as JSON text its escapes stay
# the length they are in the line.
_FAST_JSON = (
    "intent", "patterns", "policies", "patternsUsed", "policiesApplied", "resources", "settings",
    "error",
)  # fmt: skip
_FAST_STRUCT = (
    "{"
    + ", ".join(f'"{key}": "{"JSON" if key in _FAST_JSON else "VARCHAR"}"' for key in _FAST_KEYS)
    + "}"
)


def _fast_part(key: str) -> str:
    # The key, its quotes, colon and comma, and the value: minified JSON text, or a string's value
    # and its two quotes (`v`: the digit 1 alone).
    quotes = 0 if key in (*_FAST_JSON, "v") else 2
    return f"coalesce({len(key) + 4 + quotes} + strlen(j.{key}), 0)"


# A compact line that holds only these keys, each once and none with a null value, is exactly as
# long as the braces, keys, values and commas it is built from. Every part of any other line is
# at least as long as counted here, and something is longer (a repeated key, whose first value
# from_json keeps while the reference model keeps the last; an unknown key, which may nest deeper
# than the reference model reads; spaces; an escape; a non-canonical number; a quoted `v`), so it
# goes to the field-by-field check.
_FAST_LENGTH = "2 + " + " + ".join(_fast_part(key) for key in _FAST_KEYS) + " - 1"
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
    r"(19|20)\d\d-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
)

_FAST_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pb_text(x) AS
    CASE WHEN contains(x, '\') THEN json_extract_string(x, '$') ELSE x[2:-2] END;
-- Whether from_json's VARCHAR x was a JSON string: it gives a list, an object, a boolean or a
-- number (inf and nan in any case among them) as that value's JSON text. Strings that look like
-- one of these (a leading '-', a decimal number) are left to the slow check.
CREATE OR REPLACE TEMP MACRO pb_was_string(x) AS CASE
    WHEN ascii(x) IN (45, 91, 123) THEN false
    WHEN ascii(x) BETWEEN 48 AND 57
        THEN NOT regexp_full_match(x, '[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?')
    WHEN strlen(x) IN (3, 4, 5, 8) THEN lower(x) NOT IN ('true', 'false', 'inf', 'nan', 'infinity')
    ELSE true
END;
CREATE OR REPLACE TEMP MACRO pb_fast_ts(x) AS
    make_timestamp(epoch_us(try_cast(x AS TIMESTAMPTZ)));
"""

_FAST = f"""
CREATE OR REPLACE TEMP TABLE log_scan AS
WITH raw AS ({{lines}}),
parsed AS (
    SELECT file_index, line, bytes, j, pb_fast_ts(j.ts) AS ts_utc,
        -- Computed once here: a repeated call in the check below would run twice.
        CASE WHEN j.type = 'solution' THEN json_keys(j.settings) END AS setting_keys
    FROM (SELECT file_index, line, coalesce(strlen(line), 0) AS bytes,
        try(from_json(line, '{_FAST_STRUCT}')) AS j FROM raw)
),
judged AS (
    SELECT file_index, line, bytes, j, ts_utc, coalesce(bytes <= {{max_line}}
        AND bytes = {_FAST_LENGTH} AND j.v = '1'
        AND j.eventId <> '' AND pb_was_string(j.eventId)
        AND j.workflowId <> '' AND pb_was_string(j.workflowId)
        AND j.workflow IN ('recommend', 'operate')
        AND regexp_full_match(j.ts, {_quote(_FAST_TS)}) AND ts_utc IS NOT NULL
        AND (j.cluster IS NULL OR pb_was_string(j.cluster))
        AND CASE j.type
            WHEN 'retrieved' THEN starts_with(j.intent, '"')
                AND regexp_full_match(j.patterns, {_quote(_SCORES)})
                AND regexp_full_match(j.policies, {_quote(_SCORES)})
            WHEN 'solution' THEN regexp_full_match(j.patternsUsed, {_quote(_NAMES)})
                AND regexp_full_match(j.policiesApplied, {_quote(_NAMES)})
                AND regexp_full_match(j.resources, {_quote(_RESOURCES)})
                AND regexp_full_match(j.settings, {_quote(_SETTINGS)})
                AND len(setting_keys) = len(list_distinct(setting_keys))
            WHEN 'outcome' THEN j.status IN ('deployed', 'failed', 'abandoned')
                AND (j.error IS NULL OR starts_with(j.error, '"'))
            ELSE false
        END, false) AS ok
    FROM parsed
)
SELECT file_index, bytes,
    -- Lines that fail the fast check are marked and keep their text for the slow check.
    CASE WHEN NOT ok THEN '{{unchecked}}' END AS reason,
    false AS blank,
    CASE WHEN NOT ok THEN line END AS raw,
    CASE WHEN ok THEN j.eventId END AS event_id,
    CASE WHEN ok THEN j.workflowId END AS workflow_id,
    CASE WHEN ok THEN j.type END AS type,
    CASE WHEN ok THEN ts_utc END AS ts,
    CASE WHEN ok THEN j.cluster END AS cluster,
    CASE WHEN ok THEN hash(line) END AS content,
    CASE WHEN ok AND j.type = 'retrieved' THEN pb_text(j.intent) END AS intent,
    CASE WHEN ok AND j.type = 'retrieved'
        THEN from_json(j.patterns, '[{{"id": "VARCHAR", "score": "DOUBLE"}}]') END AS patterns,
    CASE WHEN ok AND j.type = 'retrieved'
        THEN from_json(j.policies, '[{{"id": "VARCHAR", "score": "DOUBLE"}}]') END AS policies,
    CASE WHEN ok AND j.type = 'solution'
        THEN from_json(j.patternsUsed, '["VARCHAR"]') END AS patterns_used,
    CASE WHEN ok AND j.type = 'solution'
        THEN from_json(j.policiesApplied, '["VARCHAR"]') END AS policies_applied,
    CASE WHEN ok AND j.type = 'solution'
        THEN list_transform(from_json(j.resources, '[{{"kind": "VARCHAR"}}]'), lambda r: r.kind)
        END AS kinds,
    CASE WHEN ok AND j.type = 'solution' THEN j.settings END AS settings,
    CASE WHEN ok AND j.type = 'outcome' THEN j.status END AS status,
    CASE WHEN ok AND j.type = 'outcome' THEN pb_text(j.error) END AS error
FROM judged
"""

# An internal reason: the line awaits the slow check (never left in log_lines after load_lines).
UNCHECKED = "?"


def fast_lines_sql(lines_sql: str, max_line_bytes: int = MAX_LINE_BYTES) -> str:
    """The statement creating log_scan from `lines_sql` (file_index, line) with the fast check only.

    Rows keep the order of `lines_sql`. Lines it cannot accept have reason UNCHECKED and their
    text in `raw`; `bytes` is each line's length in bytes (0 for a blank line without spaces).
    """
    return (
        _FAST.replace("{lines}", lines_sql)
        .replace("{unchecked}", UNCHECKED)
        .replace("{max_line}", str(max_line_bytes))
    )


_NO_LINES = "SELECT 0 AS file_index, NULL::VARCHAR AS line WHERE false"


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the SQL macros and functions the line checks use on this connection."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'pb_depth'"
    ).fetchall()
    if not found[0][0]:
        con.create_function("pb_depth", json_depth, [VARCHAR], INTEGER, side_effects=False)
    con.execute(_MACROS)
    con.execute(_FAST_MACROS)


def field_by_field_sql(table: str, lines_sql: str, max_line_bytes: int = MAX_LINE_BYTES) -> str:
    """The statement creating temp table `table` from the lines of `lines_sql`, each checked field
    by field: the columns of log_lines, `reason` NULL for a valid event."""
    checked = checked_lines_sql(lines_sql, max_line_bytes)
    return _LOAD.replace("{table}", table).replace("{checked}", checked)


def checked_lines_sql(lines_sql: str, max_line_bytes: int = MAX_LINE_BYTES) -> str:
    """A query giving (file_index, rn, reason, line, ...) for the raw lines of `lines_sql`.

    `lines_sql` yields (file_index, rn, line); `reason` is NULL for a valid v1 event.
    """
    return (
        _CHECKED.replace("{lines}", lines_sql)
        .replace("{max_line}", str(max_line_bytes))
        .replace("{max_depth}", str(MAX_DEPTH))
    )


def _translate(exc: duckdb.Error, plain: Sequence[PlainFile]) -> LogFormatError:
    message = str(exc)
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    culprit = next((f.shown for f in plain if str(f.path) in message), None)
    return LogFormatError(f"{culprit or 'workflow logs'}: cannot be read: {first}")


def load_lines(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[LogFile],
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    buffer_bytes: int | None = None,
    min_piece_bytes: int = MIN_PIECE_BYTES,
) -> None:
    """Read and check every line of `files` into the temp view log_lines and the tables
    log_file_starts and log_rejected.

    log_lines has one row per line DuckDB read: `rn` counts them across all files in order, from
    1; its `file_index` numbers the pieces read (bot/logs/sources.py). log_rejected holds every
    rejected line with the index of its file in `files` and its line number there (`ln`),
    including the over-long lines that were never read into log_lines. Raises LogFormatError for
    a file that cannot be read whole, and when the lines read do not account for every byte of a
    file. Files of `min_piece_bytes` or more may be read in pieces, side by side.
    """
    install_macros(con)
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    with tempfile.TemporaryDirectory(prefix="patternbot-plain-") as folder:
        # Four pieces per thread even out pieces of different speed.
        plain = prepare(
            files, Path(folder), pieces=PIECES_PER_THREAD * threads, min_piece_bytes=min_piece_bytes
        )
        buffer = buffer_bytes or default_buffer_bytes(max_line_bytes)
        lines = _lines_query(plain, max_line_bytes, buffer) if plain else _NO_LINES
        try:
            con.execute(fast_lines_sql(lines, max_line_bytes))
        except duckdb.Error as exc:
            raise _translate(exc, plain) from exc
        plain = _number_pieces(con, plain)
        skipped = _skipped_lines(con, plain)
        long_lines = _long_lines(plain, skipped, max_line_bytes)
    _check_the_rest(con, max_line_bytes)
    con.execute(_FILE_STARTS.replace("{lines}", "SELECT file_index, rn FROM log_lines"))
    _collect_rejected(con, plain, skipped, long_lines)
    check_every_byte_read(con, plain, long_lines)


def _number_pieces(con: duckdb.DuckDBPyConnection, plain: Sequence[PlainFile]) -> list[PlainFile]:
    """`plain` with each piece's first_line: the lines read from the pieces of its log before it,
    and the lines the reader skipped there. (A piece whose lines were miscounted fails the byte
    invariant, so a wrong number is never shown.)"""
    if all(piece.part == 0 for piece in plain):
        return list(plain)
    read = dict(
        con.execute("SELECT file_index, count(*) FROM log_scan GROUP BY file_index").fetchall()
    )
    skipped: dict[str, int] = {}
    if _has_rejects(con):
        skipped = dict(
            con.execute(
                "SELECT s.file_path, count(*) FROM pb_reject_errors e "
                "JOIN pb_reject_scans s USING (scan_id, file_id) GROUP BY s.file_path"
            ).fetchall()
        )
    numbered, before = [], 0
    for number, piece in enumerate(plain):
        if piece.part == 0:
            before = 0
        numbered.append(replace(piece, first_line=before))
        before += int(read.get(number, 0)) + int(skipped.get(str(piece.path), 0))
    return numbered


def _has_rejects(con: duckdb.DuckDBPyConnection) -> bool:
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return "pb_reject_errors" in tables


def _skipped_lines(
    con: duckdb.DuckDBPyConnection, plain: Sequence[PlainFile]
) -> dict[int, list[int]]:
    """The lines DuckDB's reader skipped, by file index: line numbers, ascending.

    Only over-long lines may be skipped; a line that is not UTF-8 refuses its file.
    """
    if not _has_rejects(con):
        return {}
    rows = con.execute(
        "SELECT s.file_path, e.line, e.error_type FROM pb_reject_errors e "
        "JOIN pb_reject_scans s USING (scan_id, file_id) ORDER BY s.file_path, e.line"
    ).fetchall()
    index = {str(f.path): n for n, f in enumerate(plain)}
    skipped: dict[int, list[int]] = {}
    for path, line, error_type in rows:
        number = index[str(path)]
        shown = plain[number].log.shown
        at = int(line) + plain[number].first_line
        if error_type == "INVALID ENCODING":
            raise LogFormatError(f"{shown}:{at}: not UTF-8 text; the file was not read")
        if error_type != "LINE SIZE OVER MAXIMUM":
            raise LogFormatError(f"{shown}:{at}: cannot be read ({error_type})")
        skipped.setdefault(number, []).append(int(line))
    return skipped


def _long_lines(
    plain: Sequence[PlainFile], skipped: dict[int, list[int]], max_line_bytes: int
) -> list[LongLine]:
    """Each skipped line, read back from its file so that the quarantine keeps it whole."""
    found = []
    for number, wanted in skipped.items():
        targets = set(wanted)
        log = plain[number]
        with log.path.open("rb") as stream:
            for line_number, raw in enumerate(stream, start=1):
                if line_number not in targets:
                    continue
                body = raw[:-1] if raw.endswith(b"\n") else raw
                body = body[:-1] if body.endswith(b"\r") else body
                if line_number == 1 and log.bom:
                    body = body[len(b"\xef\xbb\xbf") :]
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise LogFormatError(
                        f"{log.log.shown}:{line_number + log.first_line}: not UTF-8 text; the "
                        "file was not read"
                    ) from exc
                if len(body) <= max_line_bytes:  # the reader's limit is above ours: never
                    raise LogFormatError(
                        f"{log.log.shown}:{line_number + log.first_line}: the line reader "
                        "skipped a line of "
                        f"{len(body)} bytes; nothing was analysed (please report this)"
                    )
                reason = f"line longer than {max_line_bytes} bytes"
                found.append(LongLine(number, line_number, reason, text, len(body)))
    return found


# Pieces are numbered by their files: p.origin is the file's index, p.first_line its lines before.
_REJECTED_LINES = """
CREATE OR REPLACE TEMP TABLE log_rejected AS
SELECT p.origin AS file_index, p.first_line + l.rn - f.first_rn + 1 {skip_adjustment} AS ln,
    l.reason, l.raw
FROM log_lines l JOIN log_file_starts f USING (file_index)
    JOIN log_pieces p ON p.piece = l.file_index
WHERE l.reason IS NOT NULL
"""

# A read row's position p (from 0) in its file becomes line p + 1 plus the skipped lines before
# it: skipped line j (from 1) at line r has r - j read rows before it.
_SKIP_ADJUSTMENT = """+ (SELECT count(*) FROM log_skips k
    WHERE k.file_index = l.file_index AND k.read_before <= l.rn - f.first_rn)"""


def _collect_rejected(
    con: duckdb.DuckDBPyConnection,
    plain: Sequence[PlainFile],
    skipped: dict[int, list[int]],
    long_lines: Sequence[LongLine],
) -> None:
    """Table log_rejected (file_index, ln, reason, raw): every rejected line, long ones too, by
    the index of its file and its line number there."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE log_pieces (piece INT, origin INT, first_line BIGINT)"
    )
    if plain:
        con.executemany(
            "INSERT INTO log_pieces VALUES (?, ?, ?)",
            [(n, p.origin, p.first_line) for n, p in enumerate(plain)],
        )
    adjustment = ""
    if skipped:
        con.execute("CREATE OR REPLACE TEMP TABLE log_skips (file_index INT, read_before BIGINT)")
        con.executemany(
            "INSERT INTO log_skips VALUES (?, ?)",
            [(n, line - j) for n, lines in skipped.items() for j, line in enumerate(lines, 1)],
        )
        adjustment = _SKIP_ADJUSTMENT
    con.execute(_REJECTED_LINES.replace("{skip_adjustment}", adjustment))
    if long_lines:
        con.executemany(
            "INSERT INTO log_rejected VALUES (?, ?, ?, ?)",
            [
                (
                    plain[long.file_index].origin,
                    plain[long.file_index].first_line + long.line,
                    long.reason,
                    long.text,
                )
                for long in long_lines
            ],
        )


_BYTES_READ = """
SELECT file_index, count(*) AS lines, sum(bytes) AS bytes FROM log_scan GROUP BY file_index
"""
_VERDICTS = """
SELECT file_index, count(*) FILTER (WHERE reason IS NULL AND NOT blank),
    count(*) FILTER (WHERE reason IS NOT NULL), count(*) FILTER (WHERE blank)
FROM log_lines GROUP BY file_index
"""


def check_every_byte_read(
    con: duckdb.DuckDBPyConnection, plain: Sequence[PlainFile], long_lines: Sequence[LongLine]
) -> None:
    """The invariant of every run, per file: the lines read plus the skipped long lines account
    for every byte of the file (text, one line feed per line but an unterminated last one, the
    carriage returns of CRLF endings, a byte-order mark), and each read line got exactly one
    verdict: lines in = accepted + rejected + blank. LogFormatError when it does not hold."""
    read = {int(n): (int(c), int(b or 0)) for n, c, b in con.execute(_BYTES_READ).fetchall()}
    verdicts = {
        int(n): (int(a), int(r), int(b)) for n, a, r, b in con.execute(_VERDICTS).fetchall()
    }
    for number, log in enumerate(plain):
        lines, text_bytes = read.get(number, (0, 0))
        accepted, rejected, blank = verdicts.get(number, (0, 0, 0))
        longs = [long for long in long_lines if long.file_index == number]
        total_lines = lines + len(longs)
        newlines = total_lines - (0 if log.ends_with_newline or log.size == 0 else 1)
        accounted = (
            text_bytes
            + sum(long.bytes for long in longs)
            + newlines
            + log.carriage_returns
            + (len(BOM) if log.bom else 0)
        )
        if accounted != log.size or accepted + rejected + blank != lines:
            raise LogFormatError(
                f"{log.shown}: the line reader did not account for the whole file "
                f"({log.size} bytes; read {total_lines} lines holding {accounted} bytes; "
                f"{accepted} accepted + {rejected} rejected + {blank} blank of {lines} read); "
                "nothing was analysed (please report this)"
            )


def _check_the_rest(con: duckdb.DuckDBPyConnection, max_line_bytes: int) -> None:
    """Give the lines the fast check left unchecked their field-by-field verdict; view log_lines."""
    # row_number() OVER () would make the scan single-threaded; an order-preserving CREATE TABLE
    # AS keeps the lines in file order, so a row's rowid is its position (DuckDB's documented
    # order preservation, with preserve_insertion_order on).
    numbered = "SELECT rowid + 1 AS rn, * EXCLUDE (bytes) FROM log_scan"
    unchecked = f"reason = {_quote(UNCHECKED)}"
    row = con.execute(f"SELECT count(*) FROM log_scan WHERE {unchecked}").fetchone()
    if not row or not row[0]:
        con.execute(f"CREATE OR REPLACE TEMP VIEW log_lines AS {numbered}")
        return
    lines = f"SELECT file_index, rn, raw AS line FROM ({numbered}) WHERE {unchecked}"
    con.execute(field_by_field_sql("log_rechecked", lines, max_line_bytes))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW log_lines AS {numbered} "
        f"WHERE reason IS DISTINCT FROM {_quote(UNCHECKED)} "
        "UNION ALL BY NAME SELECT * FROM log_rechecked"
    )
