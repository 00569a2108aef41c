"""USITC Harmonized Tariff Schedule REST API: the current HTS revision, for the basket chapters and chapter 99.

No key. `currentRelease` names the revision in force; `exportList?from=..&to=..&format=JSON&styles=false` returns
a range of lines in indent order. Ten-digit statistical lines usually have empty rate cells and inherit the rate of
their eight-digit parent (resolved in staging). Footnotes such as "See 9903.88.03." link a line to the Chapter 99
heading of an additional duty (Section 301 lists, IEEPA, Section 232): they are kept, and the 9903 headings
themselves are fetched too. Archived revisions exist only as PDF, so the API gives no history: each run records the
revision in force as of its reference month, and a new revision shows up as a new vintage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tradewatch.errors import BrokenResponse, ReleaseFormatError
from tradewatch.http import Request, Response
from tradewatch.periods import Month
from tradewatch.sources.base import (
    EVERY_MONTH,
    PlainRequests,
    Publisher,
    ReleaseCalendar,
    check_http_answer,
    json_document,
)

SOURCE = "usitc"
BASE_URL = "https://hts.usitc.gov/reststop"
#: (part, from, to): the chapters the commodity baskets touch, and the Chapter 99 additional-duty headings.
RANGES = (("ch12", "1200", "1299"), ("ch28", "2800", "2899"), ("ch84", "8400", "8499"), ("ch85", "8500", "8599"),
          ("ch87", "8700", "8799"), ("ch88", "8800", "8899"), ("ch89", "8900", "8999"), ("ch99_9903", "9903", "9903"))


@dataclass(frozen=True)
class HtsDataset:
    name: str
    headline_var: str = "indent"  # no money in a schedule: the size check uses the line count
    source: str = SOURCE
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (("period", "DATE"), ("hts_revision", "VARCHAR"), ("line_number", "INTEGER"), ("htsno", "VARCHAR"),
                ("indent", "INTEGER"), ("description", "VARCHAR"), ("is_label", "BOOLEAN"), ("units", "VARCHAR"),
                ("general_rate", "VARCHAR"), ("special_rate", "VARCHAR"), ("other_rate", "VARCHAR"),
                ("chapter99_refs", "VARCHAR"), ("footnotes", "VARCHAR"))


HTS_LINES = HtsDataset("usitc_hts_lines")
DATASETS: dict[str, HtsDataset] = {HTS_LINES.name: HTS_LINES}
#: How the USITC names a revision: "2026HTSRev20", "2025HTSBasic". Anything else is a broken answer.
REVISION_NAME = re.compile(r"(19|20)\d{2}HTS(Basic|Rev\d{1,3})")
_COLUMNS = ("{'htsno': 'VARCHAR', 'indent': 'VARCHAR', 'description': 'VARCHAR', 'superior': 'VARCHAR', "
            "'units': 'VARCHAR[]', 'general': 'VARCHAR', 'special': 'VARCHAR', 'other': 'VARCHAR', "
            "'footnotes': 'STRUCT(columns VARCHAR[], \"value\" VARCHAR, \"type\" VARCHAR)[]'}")


def release_requests(base_url: str, ds: HtsDataset, period: date) -> list[tuple[str, Request]]:
    requests = [("current_release", Request(f"{base_url}/currentRelease"))]
    requests += [(part, Request(f"{base_url}/exportList", (("from", low), ("to", high), ("format", "JSON"),
                                                           ("styles", "false"))))
                 for part, low, high in RANGES]
    return requests


def revision_months(reference: date) -> set[Month]:
    return set()


def check_response(response: Response, what: str, period: date | None = None) -> None:
    text = check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_USITC_BASE_URL")
    if "/currentRelease" in response.url:
        revision_name(response.body, what, url=response.url, status=response.status)
        return
    if not text.startswith("["):
        raise BrokenResponse(f"{what}: exportList did not return a JSON array: {text[:120]!r}", url=response.url,
                             status=response.status)
    lines = json_document(response, what)
    if not lines:
        raise BrokenResponse(f"{what}: exportList returned no lines for a chapter that exists", url=response.url,
                             status=response.status)


def revision_name(body: bytes, what: str, *, url: str | None = None, status: int | None = None) -> str:
    """The revision `currentRelease` names, as plain text or a JSON string or object. A body that starts like JSON
    but does not parse (cut short), or a name unlike the USITC's ("2026HTSRev20", "2025HTSBasic"), is a
    BrokenResponse: nothing of the release lands."""
    text = body.decode("utf-8", "replace").strip()
    value: object = text
    if text[:1] in ('{', '[', '"'):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise BrokenResponse(f"{what}: currentRelease is not valid JSON ({exc}): {text[:80]!r}; the answer was "
                                 "cut short or garbled, nothing was landed", url=url, status=status) from None
    if isinstance(value, dict):
        value = value.get("name") or value.get("release")
    name = str(value).strip() if isinstance(value, str) else ""
    if not REVISION_NAME.fullmatch(name):
        raise BrokenResponse(f"{what}: currentRelease did not name an HTS revision like 2026HTSRev20: "
                             f"{text[:80]!r}; nothing was landed", url=url, status=status)
    return name


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: HtsDataset, part: str, what: str,
               period: date) -> str:
    """Parse one exportList answer (the currentRelease part gives the revision name and no rows)."""
    if part == "current_release":  # comes first in every release: it names the revision of the lines after it
        try:
            name = revision_name(Path(path).read_bytes(), what)
        except BrokenResponse as exc:  # landed by an earlier version that did not check the name
            raise ReleaseFormatError(str(exc)) from None
        con.execute("CREATE OR REPLACE TEMP TABLE _hts_revision AS SELECT ? AS name", [name])
        return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in ds.data_columns) + " WHERE false"
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _hts_part AS SELECT ordinality AS line_number, * EXCLUDE (ordinality) "
            f"FROM read_json(?, format='array', records=true, columns={_COLUMNS}) WITH ORDINALITY", [str(path)])
    except duckdb.Error as exc:
        raise ReleaseFormatError(f"{what}: not an HTS exportList answer ({exc})") from None
    bad = con.execute("SELECT line_number, htsno, indent FROM _hts_part WHERE htsno IS NULL OR indent IS NULL "
                      "OR NOT regexp_full_match(indent, '[0-9]{1,2}') OR NOT regexp_full_match(htsno, "
                      "'([0-9]{4}(\\.[0-9]{2}){0,3})?') LIMIT 1").fetchall()
    if bad:
        raise ReleaseFormatError(f"{what}: line {bad[0][0]} has htsno {bad[0][1]!r} and indent {bad[0][2]!r}; "
                                 "the export format changed")
    has_revision = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_hts_revision'"
                               ).fetchall()[0][0]
    revision = "(SELECT name FROM _hts_revision)" if has_revision else "CAST(NULL AS VARCHAR)"
    return (
        f"SELECT DATE '{period.isoformat()}' AS period, {revision} AS hts_revision, "
        f"CAST(line_number AS INTEGER) + {RANGES.index(next(r for r in RANGES if r[0] == part)) * 1_000_000} "
        "AS line_number, htsno, CAST(indent AS INTEGER) AS indent, description, "
        "coalesce(superior = 'true', false) AS is_label, array_to_string(units, ',') AS units, "
        "\"general\" AS general_rate, special AS special_rate, other AS other_rate, "
        "nullif(array_to_string(list_distinct(flatten(list_transform(footnotes, lambda f: "
        "regexp_extract_all(f.\"value\", '99[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}')))), ','), '') AS chapter99_refs, "
        "nullif(array_to_string(list_transform(footnotes, lambda f: trim(f.\"value\")), ' | '), '') AS footnotes "
        "FROM _hts_part"
    )


PUBLISHER = Publisher(
    name=SOURCE, title="USITC HTS", datasets=DATASETS,
    key=None,
    base_url=BASE_URL,
    calendar=ReleaseCalendar(months_after=0, day=28),  # the revision in force during the month
    revision_months=revision_months,
    backfills=False,  # the API serves only the revision in force: there is no history to backfill
    fetch=PlainRequests(release_requests),
    check_response=check_response,
    stage_part=stage_part,
)
