"""US Census Bureau International Trade API (timeseries/intltrade): requests, response checks, parsing.

Format (SOURCES.md 1.5): a JSON array of arrays, every cell a string, row 0 the header in `get=` order with predicate
variables appended as trailing columns; `CTY_CODE="-"` is the all-countries total; 204 means "nothing published for
this query"; errors arrive as plain text (400) or as HTML (a missing or invalid key, firewalls), sometimes with 200.
Parsing happens in DuckDB (it parses JSON an order of magnitude faster than Python) and is by header name.

Datasets: imports and exports by month (HS2/HS4/HS6 for the followed partners, HS10 for the basket chapters), and
the annual imports from China at HS10 for every chapter, read from December's year-to-date values (the weights of
the tariff averages).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from tradewatch.errors import ConfigurationError, PublisherUnavailable, ReleaseFormatError, RequestRejected
from tradewatch.http import Request, Response, Transport
from tradewatch.periods import Month, add_months, format_month, month_range
from tradewatch.sources.base import (
    EVERY_MONTH,
    ApiKey,
    Endpoint,
    Navigation,
    Part,
    Publisher,
    ReleaseCalendar,
    check_complete_json,
    check_http_answer,
)
from tradewatch.sql import literal

log = logging.getLogger(__name__)

SOURCE = "census"
BASE_URL = "https://api.census.gov/data/timeseries/intltrade"
CHINA = "5700"
HONG_KONG, VIETNAM, MEXICO = "5820", "5520", "2010"
ALL_COUNTRIES = "-"
#: Partners followed: China, the re-export and diversion routes (Hong Kong, Vietnam, Mexico), and the total row.
PARTNERS: tuple[str, ...] = (CHINA, HONG_KONG, VIETNAM, MEXICO, ALL_COUNTRIES)
LEVELS: tuple[str, ...] = ("HS2", "HS4", "HS6")
#: Chapters fetched at HS10 (statistical lines), those of the commodity baskets: soybeans, rare earths, machinery and
#: chip tools, electrical (magnets, chips, phones), vehicles, aircraft, ships.
HS10_CHAPTERS: tuple[str, ...] = ("12", "28", "84", "85", "87", "88", "89")
#: Every chapter that can hold HS10 lines: 77 is reserved in the Harmonized System; 98 and 99 are US provisions
#: that do (American goods returned; 9999950000, the estimate of low-valued transactions: US$5.1bn from China in 2024).
ALL_CHAPTERS: tuple[str, ...] = tuple(f"{c:02d}" for c in range(1, 100) if c != 77)
#: Asked first when an all-chapter query comes back empty or failing: the largest chapter of US imports from China,
#: so no rows for it means the month is not published, and rows for it mean the all-chapter query was refused.
PROBE_CHAPTER = "85"

#: Census variables holding whole numbers (dollars, kilograms, quantities); everything else is text.
_NUMERIC_VAR = re.compile(r"^([A-Z]+_(VAL|WGT|DUT|CHA|CIF|QY1|QY2)_(MO|YR)|QTY_[12]_(MO|YR))$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CensusDataset:
    """One raw table fed by one Census endpoint."""

    name: str  # raw table name, also the dataset id in manifests and audit tables
    endpoint: str  # path under the intltrade base URL
    commodity_var: str
    value_vars: tuple[str, ...]  # whole-number variables, required
    text_vars: tuple[str, ...]  # other required variables besides the keys
    headline_var: str  # the value that totals a release
    partners: tuple[str, ...] = PARTNERS  # Census country codes asked for (repeated CTY_CODE parameters)
    levels: tuple[str, ...] = LEVELS  # one request per level, every chapter at once
    hs10_chapters: tuple[str, ...] = HS10_CHAPTERS  # and HS10 one request per chapter
    release_months: tuple[int, ...] = EVERY_MONTH
    chapter_fallback: bool = False  # a level Census refuses as too broad is fetched chapter by chapter instead
    source: str = SOURCE

    @property
    def get_vars(self) -> tuple[str, ...]:
        return (
            "CTY_CODE", "CTY_NAME", self.commodity_var, f"{self.commodity_var}_SDESC",
            *self.value_vars, *self.text_vars, "SUMMARY_LVL",
        )

    @property
    def value_columns(self) -> tuple[str, ...]:
        return tuple(v.lower() for v in self.value_vars)

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        """(column, DuckDB type) of the raw table, lineage columns excluded."""
        return (
            ("period", "DATE"),
            ("cty_code", "VARCHAR"),
            ("cty_name", "VARCHAR"),
            ("commodity", "VARCHAR"),
            ("commodity_desc", "VARCHAR"),
            ("comm_lvl", "VARCHAR"),
            *((c, "BIGINT") for c in self.value_columns),
            *((t.lower(), "VARCHAR") for t in self.text_vars),
        )


IMPORTS = CensusDataset(
    name="census_imports_hs",
    endpoint="imports/hs",
    commodity_var="I_COMMODITY",
    value_vars=("GEN_VAL_MO", "CON_VAL_MO", "DUT_VAL_MO", "CAL_DUT_MO", "CON_QY1_MO"),
    text_vars=("UNIT_QY1",),
    headline_var="gen_val_mo",
)
EXPORTS = CensusDataset(
    name="census_exports_hs",
    endpoint="exports/hs",
    commodity_var="E_COMMODITY",
    value_vars=("ALL_VAL_MO", "QTY_1_MO"),
    text_vars=("UNIT_QY1",),
    headline_var="all_val_mo",
)
#: US imports from China at HS10, every chapter, for the calendar year: the December release's year-to-date values
#: (what the trade-war trackers weight tariff lines with). One request a year: the per-country all-chapter HS10 query
#: is answered (a tracker pulled 2024 this way: 14,422 lines in 98 chapters); an all-country one is refused as too
#: broad, so should Census ever refuse this one, it is fetched chapter by chapter (`chapter_fallback`).
IMPORTS_HS10_ANNUAL = replace(
    IMPORTS,
    name="census_imports_hs10_annual",
    value_vars=tuple(v.replace("_MO", "_YR") for v in IMPORTS.value_vars),  # the same variables, year to date
    headline_var="con_val_yr",  # consumption imports: the duty base, and the tariff weights
    partners=(CHINA,),
    levels=("HS10",),
    hs10_chapters=(),
    release_months=(12,),
    chapter_fallback=True,
)
DATASETS: dict[str, CensusDataset] = {d.name: d for d in (IMPORTS, EXPORTS, IMPORTS_HS10_ANNUAL)}


def build_request(base_url: str, ds: CensusDataset, period: date, level: str,
                  partners: Sequence[str] = PARTNERS, chapter: str | None = None) -> Request:
    """The request for one dataset, month and HS level (and chapter, for HS10). Several partners are repeated
    parameters; a chapter is a prefix wildcard on the commodity (`I_COMMODITY=85*`)."""
    bad = [p for p in partners if not re.fullmatch(r"\d{4}|-", p)]
    if bad or (chapter is not None and not re.fullmatch(r"\d{2}", chapter)) or level not in (*LEVELS, "HS10"):
        raise ConfigurationError(f"not a Census request: partner codes must be 4-digit Census country codes (or '-' "
                                 f"for all countries), chapters 2 digits, levels one of HS2/HS4/HS6/HS10; got "
                                 f"partners {bad or 'ok'}, chapter {chapter!r}, level {level!r}")
    params: list[tuple[str, str]] = [("get", ",".join(ds.get_vars)), ("COMM_LVL", level)]
    if chapter is not None:
        params.append((ds.commodity_var, f"{chapter}*"))
    params += [("CTY_CODE", p) for p in partners]
    params.append(("time", format_month(period)))
    return Request(f"{base_url}/{ds.endpoint}", tuple(params))


def release_requests(base_url: str, ds: CensusDataset, period: date) -> list[tuple[str, Request]]:
    """The parts of one release: one request per HS level, and HS10 chapter by chapter for the chapters the
    commodity baskets touch (an all-chapter HS10 query for every partner is refused as too broad). An annual
    dataset has releases for December only: year-to-date values of another month are not the calendar year."""
    if period.month not in ds.release_months:
        raise ConfigurationError(f"{ds.name} has releases for months {list(ds.release_months)} only, not for "
                                 f"{format_month(period)}; ask for one of those months")
    parts = [(level, build_request(base_url, ds, period, level, ds.partners)) for level in ds.levels]
    parts += [(f"HS10_{ch}", build_request(base_url, ds, period, "HS10", ds.partners, chapter=ch))
              for ch in ds.hs10_chapters]
    return parts


def fetch_parts(transport: Transport, endpoint: Endpoint, ds: CensusDataset, period: date,
                what: str) -> list[Part]:
    """Every part of one release, checked; raises NotYetPublished if a part is not out yet.

    For a dataset with `chapter_fallback`, an all-chapter level that Census answers with nothing (204) or keeps
    failing on (5xx, timeouts, after every retry) is asked again for the probe chapter alone: no rows there either
    means the month is not published; rows mean the query was refused as too broad (a full-month all-country HS10
    query is answered 204), and the level is then fetched chapter by chapter."""
    base_url = endpoint.base_url
    parts = []
    for name, request in release_requests(base_url, ds, period):
        try:
            response: Response | None = transport.send(request)
            failure: PublisherUnavailable | None = None
        except PublisherUnavailable as exc:  # timeouts and resets after every retry
            response, failure = None, exc
        refused = response is None or response.status == 204 or response.status >= 500
        if ds.chapter_fallback and refused and name in ds.levels:
            parts += _chapter_by_chapter(transport, base_url, ds, period, name, what, response, failure)
            continue
        if failure is not None:
            raise failure
        check_response(response, what, period)
        parts.append((name, request, response))
    return parts


def _chapter_by_chapter(transport: Transport, base_url: str, ds: CensusDataset, period: date, level: str, what: str,
                        refused: Response | None,
                        failure: PublisherUnavailable | None) -> list[Part]:
    """One level of a release, chapter by chapter, after Census answered its all-chapter query with nothing or a
    failure (`refused`, or `failure` when no answer came). A chapter without rows (204) is no part."""
    probe_request = build_request(base_url, ds, period, level, ds.partners, chapter=PROBE_CHAPTER)
    probe = transport.send(probe_request)
    if probe.status == 204:  # nothing for the largest chapter either: the month is not out (or the outage is real)
        if failure is not None:
            raise failure
        check_response(refused, what, period)
    check_response(probe, what, period)
    answer = f"HTTP {refused.status}" if refused is not None else str(failure).split(";")[0]
    log.warning("%s: Census refused the all-chapter %s query (%s) but chapter %s has rows: the query is too broad. "
                "Fetching %d chapters one by one", what, level, answer, PROBE_CHAPTER, len(ALL_CHAPTERS))
    parts = [(f"{level}_{PROBE_CHAPTER}", probe_request, probe)]
    for chapter in ALL_CHAPTERS:
        if chapter == PROBE_CHAPTER:
            continue
        request = build_request(base_url, ds, period, level, ds.partners, chapter=chapter)
        response = transport.send(request)
        if response.status == 204:  # no trade in this chapter
            continue
        check_response(response, what, period)
        parts.append((f"{level}_{chapter}", request, response))
    return sorted(parts, key=lambda part: part[0])


def check_response(response: Response, what: str, period: date | None = None) -> None:
    """Raise the error that says what this answer means, or return if it carries data.

    `what` names the release (for example "census_imports_hs 2025-05") in the message.
    """
    text = check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_CENSUS_BASE_URL")
    if text.lower().startswith("error"):
        raise RequestRejected(f"{what}: Census answered with an error: {text[:300]!r}", url=response.url,
                              status=response.status)
    check_complete_json(response, what, "[", b"]")


def revision_months(reference: date) -> set[Month]:
    """Months to fetch again in the run for `reference`: Census revises the three prior years in its June
    release, which carries April data."""
    if reference.month != 4:
        return set()
    return set(month_range(date(reference.year - 3, 1, 1), add_months(reference, -1)))


# ----------------------------------------------------------------------------------------------- parsing


def _cells_sql(path: Path, fmt: str) -> str:
    if fmt == "json":
        return ("SELECT ordinality AS rn, json AS r FROM read_json(?, format='array', records=false, "
                "columns={'json': 'VARCHAR[]'}) WITH ORDINALITY")
    if fmt == "csv":
        return ("SELECT ordinality AS rn, list_value(*COLUMNS(* EXCLUDE (ordinality))) AS r "
                "FROM read_csv(?, header=false, all_varchar=true) WITH ORDINALITY")
    raise ValueError(f"unknown Census file format {fmt!r}")


def _header_positions(con: duckdb.DuckDBPyConnection, what: str) -> dict[str, int]:
    """Variable name (upper case) -> 1-based cell position; the first of a repeated name wins."""
    header_rows = con.execute("SELECT r FROM _census_cells WHERE rn = 1").fetchall()
    if not header_rows or not header_rows[0][0]:
        raise ReleaseFormatError(f"{what}: the response has no header row")
    header = _checked_header(header_rows[0][0], what)
    ragged = con.execute(
        "SELECT rn, len(r) FROM _census_cells WHERE rn > 1 AND len(r) <> ? ORDER BY rn LIMIT 1", [len(header)]
    ).fetchall()
    if ragged:
        raise ReleaseFormatError(f"{what}: row {ragged[0][0] - 1} has {ragged[0][1]} cells, the header has "
                                 f"{len(header)}")
    return _positions(header)


def _checked_header(cells: list, what: str) -> list[str]:
    header = [h.strip() if isinstance(h, str) else "" for h in cells]
    bad = [h for h in header if not _IDENTIFIER.match(h)]
    if bad:
        raise ReleaseFormatError(f"{what}: the first row is not a header of variable names (found {bad[:3]})")
    return header


def _positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(header, start=1):
        positions.setdefault(name.upper(), index)
    return positions


def _whole_number_sql(pos: int) -> str:
    return f"(r[{pos}] IS NULL OR NOT regexp_full_match(r[{pos}], '-?[0-9]+'))"


def _check_whole_numbers(con: duckdb.DuckDBPyConnection, positions: dict[str, int], what: str) -> None:
    """Every numeric variable holds digits only: a blank, null or decimal is an error, never a zero."""
    numeric = {name: pos for name, pos in positions.items() if _NUMERIC_VAR.match(name)}
    if not numeric:
        return
    bad = {name: _whole_number_sql(pos) for name, pos in numeric.items()}
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in bad.values())
        + " FROM _census_cells WHERE rn > 1").fetchall()[0]
    for (name, cond), count in zip(bad.items(), counts, strict=True):
        if count:
            row, value = con.execute(
                f"SELECT rn - 1, r[{numeric[name]}] FROM _census_cells WHERE rn > 1 AND {cond} ORDER BY rn LIMIT 1"
            ).fetchall()[0]
            raise ReleaseFormatError(
                f"{what}: {name} holds {count} value(s) that are not whole numbers (first at data row {row}: "
                f"{value!r}). Census values are never blank; the release is broken")


def _typed_columns(positions: dict[str, int], checked: bool = False) -> list[str]:
    """Every variable but the period, named in lower case; whole-number variables as BIGINT (`checked`: a value that
    is not a whole number raises, for a single pass without a separate check)."""
    columns = []
    for name, pos in positions.items():
        if name == "TIME":
            continue
        value = f"r[{pos}]"
        if _NUMERIC_VAR.match(name):
            value = f"CAST({value} AS BIGINT)"
            if checked:
                value = f"CASE WHEN {_whole_number_sql(pos)} THEN error('{name}: not a whole number') ELSE {value} END"
        columns.append(f'{value} AS "{name.lower()}"')
    return columns


def _detail_rows(positions: dict[str, int]) -> str:
    return f"r[{positions['SUMMARY_LVL']}] = 'DET'" if "SUMMARY_LVL" in positions else "true"


def _period_sql(positions: dict[str, int], what: str) -> str:
    if "TIME" in positions:
        return f"CAST(strptime(r[{positions['TIME']}], '%Y-%m') AS DATE)"
    if "YEAR" in positions and "MONTH" in positions:
        year, month = positions["YEAR"], positions["MONTH"]
        return f"make_date(CAST(r[{year}] AS INTEGER), CAST(r[{month}] AS INTEGER), 1)"
    raise ReleaseFormatError(f"{what}: neither a 'time' column nor YEAR and MONTH columns: no period")


def parse_census_file(con: duckdb.DuckDBPyConnection, path: Path, *, fmt: str = "json",
                      table: str = "census_parsed", what: str | None = None) -> list[str]:
    """Parse one Census response file into the temp table `table`; return its column names.

    Columns are the Census variable names in lower case (the first of a repeated name wins), plus `period`.
    Whole-number variables become BIGINT and must hold digits only; a blank or malformed value is an error,
    never a zero. Only `SUMMARY_LVL=DET` rows are kept when that column is present (CGP groups would
    double-count).
    """
    what = what or str(path)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _census_cells AS {_cells_sql(path, fmt)}", [str(path)])
    except duckdb.Error as exc:
        raise ReleaseFormatError(f"{what}: not a Census {fmt.upper()} table ({exc}). The file may be truncated "
                                 "or an error page; fetch it again") from None
    try:
        return _parse_cells(con, table, what)
    finally:
        con.execute("DROP TABLE IF EXISTS _census_cells")


def _parse_cells(con: duckdb.DuckDBPyConnection, table: str, what: str) -> list[str]:
    """Type the rows of `_census_cells` (rn 1 is the header) into `table`."""
    try:
        positions = _header_positions(con, what)
        _check_whole_numbers(con, positions, what)
        selects = [f"{_period_sql(positions, what)} AS period", *_typed_columns(positions)]
        where = f"rn > 1 AND {_detail_rows(positions)}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(selects)} "
                    f"FROM _census_cells WHERE {where} ORDER BY rn")
    except duckdb.Error as exc:
        raise ReleaseFormatError(f"{what}: a period value is not a month ({exc})") from None
    return [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]


def conform(con: duckdb.DuckDBPyConnection, ds: CensusDataset, parsed: str, columns: list[str],
            what: str, carried: str = "") -> str:
    """SQL selecting the raw table's data columns from a parsed table; schema drift named by column."""
    commodity = ds.commodity_var.lower()
    needed = {
        "cty_code": "cty_code", "cty_name": "cty_name", "commodity": commodity,
        "commodity_desc": f"{commodity}_sdesc", "comm_lvl": "comm_lvl",
        **{c: c for c in ds.value_columns}, **{t.lower(): t.lower() for t in ds.text_vars},
    }
    missing = sorted({src.upper() for src in needed.values() if src not in columns})
    if missing:
        raise ReleaseFormatError(
            f"{what}: schema drift: column(s) {', '.join(missing)} missing from the response (present: "
            f"{', '.join(c.upper() for c in columns)}). The publisher may have renamed them; update "
            "tradewatch.sources.census and the suite")
    return (f"SELECT {carried + ', ' if carried else ''}period, "
            + ", ".join(f'"{src}" AS {dst}' for dst, src in needed.items()) + f" FROM {parsed}")


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: CensusDataset, part: str, what: str,
               period: date) -> str:
    """Parse one landed Census file; return SQL selecting the raw table's data columns from it."""
    columns = parse_census_file(con, path, table="_census_part", what=f"{what} {part}")
    return conform(con, ds, "_census_part", columns, f"{what} {part}")


def _file_header(path: Path, what: str) -> list[str]:
    """The header row of a landed Census JSON file as it is written, from its first bytes (the file is not parsed
    whole here); checked to be variable names."""
    with open(path, "rb") as f:
        start = f.read(65536).decode("utf-8", "replace").lstrip()
    try:
        header, _ = json.JSONDecoder().raw_decode(start[1:].lstrip()) if start.startswith("[") else (None, 0)
    except ValueError:
        header = None
    if not isinstance(header, list) or not header or not all(isinstance(h, str) for h in header):
        raise ReleaseFormatError(f"{what}: {path.name} does not start with a Census header row")
    _checked_header(header, what)
    return header


def stage_files(con: duckdb.DuckDBPyConnection, paths: Sequence[Path], ds: CensusDataset, what: str) -> str:
    """SQL selecting `file` and the raw table's data columns from many landed Census files at once (a batch load).

    One pass: the headers are read from each file's first bytes, files are grouped by header (the HS10 parts carry
    one more column), and each group is one read_json whose rows are typed and checked as they stream into raw
    (a ragged row, a value that is not a whole number or a bad period raises). A failure does not say which file:
    the caller then loads release by release, whose messages do."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for path in paths:
        groups.setdefault(tuple(_file_header(path, what)), []).append(str(path))
    selects = []
    for header, files in groups.items():
        positions = _positions(_checked_header(list(header), what))
        columns = [name.lower() for name in positions if name != "TIME"]
        period = (f"CASE WHEN len(r) <> {len(header)} THEN error('a row has the wrong number of cells') "
                  f"ELSE {_period_sql(positions, what)} END")
        parsed = (f"(SELECT file, {period} AS period, {', '.join(_typed_columns(positions, checked=True))} "
                  f"FROM (SELECT filename AS file, json AS r FROM read_json([{', '.join(map(literal, files))}], "
                  "format='array', records=false, columns={'json': 'VARCHAR[]'}, filename=true)) "
                  f"WHERE r IS DISTINCT FROM [{', '.join(literal(h) for h in header)}] "
                  f"AND {_detail_rows(positions)}) AS parsed")
        selects.append(conform(con, ds, parsed, ["period", *columns], what, carried="file"))
    return " UNION ALL ".join(selects)


PUBLISHER = Publisher(
    name=SOURCE, title="Census", datasets=DATASETS,
    key=ApiKey(variable="CENSUS_API_KEY", signup="https://api.census.gov/data/key_signup.html", param="key",
               location="params", required=True),  # required since 2026-05-12
    base_url=BASE_URL,
    calendar=ReleaseCalendar(months_after=2, day=8),  # about 35 days after the month ends
    revision_months=revision_months,
    fetch=Navigation(fetch_parts),  # parts depend on earlier answers: the annual dataset's chapter fallback
    check_response=check_response,
    stage_part=stage_part,
    stage_files=stage_files,  # batch loading: many files in one pass
)
