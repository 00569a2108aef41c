"""China's National Bureau of Statistics, new data platform (since 2026-03-27): CPI and PPI.

Both are indexes with the same month of the previous year = 100 (YoY % = value - 100). The indicator ids are
pinned (discovery calls can hit a JavaScript firewall challenge). The CPI catalogue is split into five-year
segments because NBS rebases the CPI every five years: a release window that crosses a segment boundary is fetched
from both segments and stitched by date. A release is the twelve months ending with its reference month; `""`
means not yet published. The legacy easyquery API (blocked since 2026-03) is parsed for historical files only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tradewatch.errors import BrokenResponse, NotYetPublished, PageLayoutChanged, ReleaseFormatError
from tradewatch.http import Request, Response
from tradewatch.periods import Month, add_months, format_month
from tradewatch.sources.base import (
    EVERY_MONTH,
    Part,
    PlainRequests,
    Publisher,
    ReleaseCalendar,
    check_complete_json,
    check_http_answer,
    json_document,
)

SOURCE = "nbs"
BASE_URL = "https://data.stats.gov.cn/dg/website/publicrelease/web/external"
MONTHLY_ROOT = "fc982599aa684be7969d7b90b1bd0e84"
NATIONAL = [{"text": "全国", "value": "000000000000"}]
HEADERS = (("Referer", "https://data.stats.gov.cn/dg/website/page.html"), ("Origin", "https://data.stats.gov.cn"))


@dataclass(frozen=True)
class Segment:
    series_code: str  # CPI or PPI
    cid: str
    indicator_id: str
    first: date
    last: date | None  # None: open-ended


#: Pinned catalogue and indicator ids (SOURCES.md 4.2), same month of the previous year = 100.
SEGMENTS: tuple[Segment, ...] = (
    Segment("CPI", "9d4eec43537742a7ab5d63db97fa2f51", "e5c318ffdbbc4d38898e52b52267eb25",
            date(2016, 1, 1), date(2020, 12, 1)),
    Segment("CPI", "809d2522b0fe4be89142650341b19083", "4ae9047687934a6390984c21d6ddab96",
            date(2021, 1, 1), date(2025, 12, 1)),
    Segment("CPI", "5c7452825c7c4dcba391db5ca7f335c5", "53180dfb9c14411ba4b762307c85920c", date(2026, 1, 1), None),
    Segment("PPI", "60e8b361f11c4a878c652a6487a25561", "150633e52b9a470a9a9fd1b296dd6c5b", date(1993, 1, 1), None),
)
SERIES_CODES = ("CPI", "PPI")
WINDOW_MONTHS = 12


@dataclass(frozen=True)
class NbsDataset:
    name: str
    headline_var: str = "value"
    source: str = SOURCE
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (("period", "DATE"), ("series_code", "VARCHAR"), ("indicator_id", "VARCHAR"),
                ("value", "DECIMAL(10,3)"))


PRICE_INDEXES = NbsDataset("nbs_price_indexes")
DATASETS: dict[str, NbsDataset] = {PRICE_INDEXES.name: PRICE_INDEXES}
_BY_INDICATOR = {s.indicator_id: s for s in SEGMENTS}


def _code(month: date) -> str:
    return f"{month.year:04d}{month.month:02d}MM"


def release_requests(base_url: str, ds: NbsDataset, period: date) -> list[tuple[str, Request]]:
    """One POST per catalogue segment overlapping the twelve months ending with `period`."""
    first = add_months(period, -(WINDOW_MONTHS - 1))
    requests = []
    for segment in SEGMENTS:
        start, end = max(first, segment.first), min(period, segment.last or period)
        if start > end:
            continue
        body = {"cid": segment.cid, "indicatorIds": [segment.indicator_id], "daCatalogId": "", "das": NATIONAL,
                "showType": "1", "dts": [f"{_code(start)}-{_code(end)}"], "rootId": MONTHLY_ROOT}
        part = f"{segment.series_code}:{format_month(segment.first)}"
        requests.append((part, Request(f"{base_url}/stream/esData", (), json.dumps(body, ensure_ascii=False),
                                       HEADERS)))
    return requests


def revision_months(reference: date) -> set[Month]:
    """None: NBS does not normally revise CPI or PPI once published."""
    return set()


def _document(response: Response, what: str) -> dict:
    document = json_document(response, what)
    if document.get("success") is not True or not isinstance(document.get("data"), list):
        raise BrokenResponse(f"{what}: NBS did not answer success with data: {str(document)[:200]}",
                             url=response.url, status=response.status)
    return document


def check_response(response: Response, what: str, period: date | None = None) -> None:
    """One answer is well formed (firewall pages, truncation and `success: false` are errors)."""
    check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_NBS_BASE_URL")
    check_complete_json(response, what, "{", b"}")
    _document(response, what)


def check_release(parts: list[Part], what: str, period: date) -> None:
    """Every series has a value for the reference month in one of its segments; else it is not out yet. "Not yet"
    only when NBS says so (a row for the month with an empty value, or nothing at all for a window of that month
    alone): rows without a month code or values, or an answer with no value of its series over a window that holds
    published months, are a layout change (PageLayoutChanged), never "not yet"."""
    published = set()
    for name, request, response in parts:
        indicator = json.loads(request.body or "{}").get("indicatorIds", [None])[0]
        window = json.loads(request.body or "{}").get("dts", [""])[0]
        seen = False
        for row in _document(response, what)["data"]:
            if not isinstance(row, dict) or not re.fullmatch(r"\d{6}MM", str(row.get("code"))) \
                    or not isinstance(row.get("values"), list):
                raise PageLayoutChanged(f"{what}: an NBS row is not {{code: YYYYMMMM, values: [...]}}: "
                                        f"{str(row)[:120]}; the answer's layout changed", url=response.url)
            for value in row["values"]:
                segment = _BY_INDICATOR.get(value.get("_id"))
                seen = seen or value.get("_id") == indicator
                if segment and row["code"] == _code(period) and value.get("value") not in ("", None):
                    published.add(segment.series_code)
        if not seen and not window.startswith(f"{_code(period)}-"):
            raise PageLayoutChanged(f"{what}: NBS answered no value of {name} ({indicator}) for {window}, a window "
                                    "with published months: the pinned id or the answer's layout changed",
                                    url=response.url)
    missing = [code for code in SERIES_CODES if code not in published]
    if missing:
        raise NotYetPublished(f"{what}: NBS has not published {period:%Y-%m} for {', '.join(missing)} yet (empty "
                              "value). This is normal before the release day (about the 9th); the next run will "
                              "try again", url=parts[-1][2].url if parts else None)


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: NbsDataset, part: str, what: str,
               period: date) -> str:
    """Parse one landed esData answer; return SQL selecting the raw data columns. `""` values are dropped."""
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _nbs_part AS WITH doc AS (SELECT * FROM read_json(?, format='unstructured', "
            "records=true, columns={'success': 'BOOLEAN', 'data': 'STRUCT(code VARCHAR, \"values\" "
            "STRUCT(_id VARCHAR, \"value\" VARCHAR)[])[]'})), rows AS (SELECT unnest(\"data\") AS r FROM doc) "
            "SELECT r.code AS code, unnest(r.\"values\") AS v FROM rows", [str(path)])
    except duckdb.Error as exc:
        raise ReleaseFormatError(f"{what}: not an NBS esData answer ({exc})") from None
    bad = con.execute(
        "SELECT code, v._id, v.value FROM _nbs_part WHERE code IS NULL OR NOT regexp_full_match(code, '[0-9]{6}MM') "
        "OR v._id IS NULL OR (coalesce(v.value, '') <> '' AND NOT regexp_full_match(v.value, '[0-9]+(\\.[0-9]+)?')) "
        "LIMIT 1").fetchall()
    if bad:
        raise ReleaseFormatError(f"{what}: malformed observation {bad[0]} (period code, indicator or value)")
    known = ", ".join(f"'{s.indicator_id}'" for s in SEGMENTS)  # pinned constants; others were not asked for
    cases = " ".join(f"WHEN '{s.indicator_id}' THEN '{s.series_code}'" for s in SEGMENTS)  # pinned constants
    return (
        "SELECT make_date(CAST(substr(code, 1, 4) AS INTEGER), CAST(substr(code, 5, 2) AS INTEGER), 1) AS period, "
        f"CASE v._id {cases} END AS series_code, v._id AS indicator_id, CAST(v.value AS DECIMAL(10,3)) AS value "
        f"FROM _nbs_part WHERE v._id IN ({known}) AND coalesce(v.value, '') <> '' "
        f"AND substr(code, 1, 6) <= '{period:%Y%m}'"
    )


def parse_legacy(path: Path) -> list[tuple[date, str, float | None]]:
    """Historical easyquery answers (blocked since 2026-03): (month, legacy indicator code, officially rounded
    value or None when `hasdata` is false). Uses `strdata`, the published rounding, not the raw `data`."""
    document = json.loads(Path(path).read_text())
    if document.get("returncode") != 200:
        raise ReleaseFormatError(f"{path}: legacy NBS answer with returncode {document.get('returncode')}")
    rows = []
    for node in document["returndata"]["datanodes"]:
        dims = {w["wdcode"]: w["valuecode"] for w in node["wds"]}
        month = date(int(dims["sj"][:4]), int(dims["sj"][4:6]), 1)
        data = node["data"]
        rows.append((month, dims["zb"], float(data["strdata"]) if data.get("hasdata") and data["strdata"] else None))
    return rows


PUBLISHER = Publisher(
    name=SOURCE, title="NBS", datasets=DATASETS,
    key=None,  # the new data platform takes no key
    base_url=BASE_URL,
    calendar=ReleaseCalendar(months_after=1, day=12),  # about the 9th
    revision_months=revision_months,
    fetch=PlainRequests(release_requests, check_release=check_release),  # series stitched across CPI segments
    check_response=check_response,
    stage_part=stage_part,
)
