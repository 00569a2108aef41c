"""BLS Public Data API v2: CPI-U, PPI final demand, import prices from China and from everywhere.

One POST returns every series for a range of years (SOURCES.md 2). The answer is nearly always HTTP 200: errors and
warnings live in `status` and `message`. A release is the answer for a reference month: every series, January of
the previous year up to that month, so each release carries the latest (possibly revised) values of the months
before it. "No Data Available for Series X Year: Y" is normal; the reference month missing from a series means
"not published yet". Values are decimal strings; "-" is a missing value (never a zero); footnote code P marks a
preliminary value. M13 (annual averages) is not requested and is dropped if present.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tradewatch.errors import (
    BrokenResponse,
    KeyRejected,
    NotYetPublished,
    PublisherUnavailable,
    ReleaseFormatError,
    RequestRejected,
)
from tradewatch.http import Request, Response
from tradewatch.periods import Month
from tradewatch.sources.base import (
    EVERY_MONTH,
    ApiKey,
    PlainRequests,
    Publisher,
    ReleaseCalendar,
    check_complete_json,
    check_http_answer,
    json_document,
)

SOURCE = "bls"
BASE_URL = "https://api.bls.gov/publicAPI/v2"

#: series id -> what it is (every series is monthly and not seasonally adjusted)
SERIES: dict[str, str] = {
    "CUUR0000SA0": "CPI-U, US city average, all items, NSA, 1982-84=100",
    "WPUFD4": "PPI final demand, NSA, Nov 2009=100",
    "EIUCOCHNTOT": "Import price index, locality of origin China, all commodities, NSA, Dec 2003=100",
    "EIUIR": "Import price index, all imports, NSA, 2000=100",
}


@dataclass(frozen=True)
class BlsDataset:
    name: str
    series: tuple[str, ...]
    headline_var: str = "value"
    source: str = SOURCE
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (
            ("period", "DATE"),
            ("series_id", "VARCHAR"),
            ("value", "DECIMAL(14,3)"),
            ("footnote_codes", "VARCHAR"),
            ("is_preliminary", "BOOLEAN"),
        )


SERIES_DATASET = BlsDataset(name="bls_series", series=tuple(SERIES))
DATASETS: dict[str, BlsDataset] = {SERIES_DATASET.name: SERIES_DATASET}

_RESULTS_TYPE = (
    'STRUCT(series STRUCT(seriesID VARCHAR, "data" STRUCT("year" VARCHAR, "period" VARCHAR, periodName VARCHAR, '
    'latest VARCHAR, "value" VARCHAR, footnotes STRUCT(code VARCHAR, "text" VARCHAR)[])[])[])'
)
_NO_DATA = re.compile(r"^No Data Available for Series \S+ Year: \d{4}$")


def release_requests(base_url: str, ds: BlsDataset, period: date) -> list[tuple[str, Request]]:
    """One POST for every series, from January of the previous year to the reference month's year."""
    body = {"seriesid": list(ds.series), "startyear": str(period.year - 1), "endyear": str(period.year),
            "catalog": False, "calculations": False, "annualaverage": False, "aspects": False}
    return [("series", Request(f"{base_url}/timeseries/data/", (), json.dumps(body)))]


def revision_months(reference: date) -> set[Month]:
    """None: every release carries the latest values of the months before it (PPI and MXP revisions included)."""
    return set()


def _scrub(message: str) -> str:
    """BLS quotes the key back in some messages ("The key: <key> provided by the User is invalid")."""
    return re.sub(r"(?i)(key:?\s*|registration key\s*)[<]?[A-Za-z0-9]{16,}[>]?", r"\1***", message)


def _check_status(document: dict, response: Response, what: str) -> None:
    status = document.get("status")
    messages = [_scrub(str(m)) for m in document.get("message") or []]
    text = " ".join(messages)
    url, code = response.url, response.status
    if status == "REQUEST_SUCCEEDED":
        problems = [m for m in messages if not _NO_DATA.match(m)]
        if any("does not exist" in m for m in problems):
            raise RequestRejected(f"{what}: BLS does not know a series: {problems}. Check the series ids",
                                  url=url, status=code)
        if problems:
            raise BrokenResponse(f"{what}: BLS answered with unexpected messages {problems}; nothing was loaded",
                                 url=url, status=code)
        return
    if "key" in text.lower() and "invalid" in text.lower():
        raise KeyRejected(f"{what}: BLS says the key is invalid ({text[:200]}). Keys expire every year: renew it "
                          "at https://data.bls.gov/registrationEngine/ and set BLS_API_KEY", url=url, status=code)
    if "threshold" in text.lower() or status == "REQUEST_FAILED_OVER_CAPACITY":
        raise PublisherUnavailable(f"{what}: BLS refused the request for now ({status}: {text[:200]}); the next "
                                   "run will try again", url=url, status=code)
    raise RequestRejected(f"{what}: BLS answered {status}: {text[:300]}", url=url, status=code)


def check_response(response: Response, what: str, period: date | None = None) -> None:
    """Raise the error that says what this answer means, or return if it carries the reference month."""
    check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_BLS_BASE_URL")
    check_complete_json(response, what, "{", b"}")
    document = json_document(response, what)
    _check_status(document, response, what)
    if period is None:
        return
    wanted = (str(period.year), f"M{period.month:02d}")
    series = {s.get("seriesID"): s.get("data") or [] for s in (document.get("Results") or {}).get("series") or []}
    missing = [sid for sid in SERIES_DATASET.series
               if not any((d.get("year"), d.get("period")) == wanted for d in series.get(sid, []))]
    if missing:
        raise NotYetPublished(f"{what}: BLS has not published {period:%Y-%m} for {', '.join(missing)} yet. This is "
                              "normal before the release day; the next run will try again", url=response.url,
                              status=response.status)


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: BlsDataset, part: str, what: str,
               period: date) -> str:
    """Parse one landed BLS answer in DuckDB; return SQL selecting the raw table's data columns.

    Keeps monthly observations (M01-M12) up to the release's reference month; "-" becomes NULL, any other value
    must be a decimal number.
    """
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _bls_part AS "
            "WITH doc AS (SELECT * FROM read_json(?, format='unstructured', records=true, "
            f"columns={{'status': 'VARCHAR', 'Results': '{_RESULTS_TYPE}'}})), "
            "s AS (SELECT unnest(Results.series) AS s FROM doc), "
            "d AS (SELECT s.seriesID AS series_id, unnest(s.data) AS d FROM s) "
            "SELECT series_id, d.year AS year, d.period AS period_code, trim(d.value) AS value_text, "
            "list_filter(list_transform(d.footnotes, lambda x: x.code), lambda c: c IS NOT NULL AND c <> '') "
            "AS codes FROM d",
            [str(path)])
    except duckdb.Error as exc:
        raise ReleaseFormatError(f"{what}: not a BLS API answer ({exc})") from None
    missing = con.execute("SELECT count(*) FROM _bls_part WHERE series_id IS NULL OR year IS NULL "
                          "OR period_code IS NULL OR value_text IS NULL").fetchall()[0][0]
    if missing:
        raise ReleaseFormatError(f"{what}: schema drift: {missing} observation(s) without seriesID, year, period or "
                                 "value; BLS may have renamed a field")
    bad = con.execute(
        "SELECT series_id, year, period_code, value_text FROM _bls_part WHERE value_text <> '-' "
        "AND NOT regexp_full_match(value_text, '-?[0-9]+(\\.[0-9]+)?') LIMIT 1").fetchall()
    if bad:
        raise ReleaseFormatError(f"{what}: value {bad[0][3]!r} of {bad[0][0]} {bad[0][1]} {bad[0][2]} is not a "
                                 "number; the release is broken")
    month = "make_date(CAST(year AS INTEGER), CAST(substr(period_code, 2) AS INTEGER), 1)"
    return (
        f"SELECT {month} AS period, series_id, "
        "CASE WHEN value_text = '-' THEN NULL ELSE CAST(value_text AS DECIMAL(14,3)) END AS value, "
        "array_to_string(codes, ',') AS footnote_codes, list_contains(codes, 'P') AS is_preliminary "
        "FROM _bls_part WHERE regexp_full_match(period_code, 'M(0[1-9]|1[0-2])') "
        f"AND {month} <= DATE '{period.isoformat()}'"  # a date object's ISO text, never outside input
    )


PUBLISHER = Publisher(
    name=SOURCE, title="BLS", datasets=DATASETS,
    key=ApiKey(variable="BLS_API_KEY", signup="https://data.bls.gov/registrationEngine/", param="registrationkey",
               location="body", required=False),  # v2 answers without a key, with lower limits
    base_url=BASE_URL,
    calendar=ReleaseCalendar(months_after=1, day=16),  # CPI and PPI mid-month
    revision_months=revision_months,
    fetch=PlainRequests(release_requests),
    check_response=check_response,
    stage_part=stage_part,
)
