"""China's General Administration of Customs (GACC), English site: the monthly country table.

No API: an index page lists report titles, each with one link per published month whose URL is an opaque id, so
every run reads the index again. The country table gives, per region, total, exports and imports for the month and
year to date, then three YoY percentages, in US$1,000, with thousands separators; `-`, `—` and `－` are blanks;
subtotal labels end with `:`; TOTAL is a row. January and February are published together as one period, which is
stored as one release (period January, months_in_period 2), never as February. Exports are by country of final
destination (FOB), imports by country of origin (CIF).

Assumptions (UNVERIFIED, no live page was reachable): the index page groups each year's reports under a heading
holding the year; the combined link reads "Jan.-Feb." (or "Feb."); the report page states its period as "M.YYYY"
or "1-2.YYYY". The parser checks the page's own period against the one asked for, so a layout change fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import duckdb

from tradewatch.errors import BrokenResponse, NotYetPublished, ReleaseFormatError
from tradewatch.http import Request, Response, Transport
from tradewatch.sources.base import EVERY_MONTH, Publisher, check_http_answer

SOURCE = "gacc"
INDEX_PATH = "/statics/report/monthly.html"
REPORT_TITLE = re.compile(r"by\s+Country\s*\(Region\).*\(in\s+USD\)", re.I | re.S)
MONTH_LINKS = {"jan.-feb.": 1, "jan-feb": 1, "1-2": 1, "feb.": 1, "mar.": 3, "apr.": 4, "may": 5, "may.": 5,
               "jun.": 6, "jul.": 7, "aug.": 8, "sep.": 9, "sept.": 9, "oct.": 10, "nov.": 11, "dec.": 12}
BLANKS = {"", "-", "—", "－", "–"}
#: Region labels of the country table -> ISO3 (only the partners the warehouse follows, plus the total).
REGIONS = {"TOTAL": "WLD", "United States": "USA", "U.S.A.": "USA", "Hong Kong, China": "HKG",
           "Hong Kong": "HKG", "Viet Nam": "VNM", "Vietnam": "VNM", "Mexico": "MEX"}
VALUE_COLUMNS = ("total_month", "total_ytd", "exports_month", "exports_ytd", "imports_month", "imports_ytd")
PCT_COLUMNS = ("pct_change_total", "pct_change_exports", "pct_change_imports")


@dataclass(frozen=True)
class GaccDataset:
    name: str
    headline_var: str = "exports_month"
    source: str = SOURCE
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (("period", "DATE"), ("months_in_period", "INTEGER"), ("region", "VARCHAR"),
                ("partner_iso3", "VARCHAR"), ("is_subtotal", "BOOLEAN"),
                *((c, "BIGINT") for c in VALUE_COLUMNS), *((c, "DOUBLE") for c in PCT_COLUMNS),
                ("unit", "VARCHAR"))


COUNTRY_TABLE = GaccDataset("gacc_trade_by_country")
PRELIMINARY_PATH = "/statics/report/preliminary.html"
PRELIMINARY_TITLE = re.compile(r"Preliminary.*\(in\s+USD\)", re.I | re.S)
PRELIMINARY_ITEMS = {"total export & import": "total", "total export and import": "total", "export": "exports",
                     "exports": "exports", "import": "imports", "imports": "imports", "balance": "balance"}


@dataclass(frozen=True)
class GaccPreliminaryDataset:
    """The preliminary (flash) release: China's total exports, imports and balance in US$ 100 million, with
    GACC's own month-on-month and year-on-year percentages. Comes out first, around the 7th-10th."""

    name: str
    headline_var: str = "value_month"
    source: str = SOURCE
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (("period", "DATE"), ("months_in_period", "INTEGER"), ("item", "VARCHAR"),
                ("value_month", "DOUBLE"), ("value_ytd", "DOUBLE"), ("mom_pct", "DOUBLE"), ("yoy_pct", "DOUBLE"),
                ("ytd_yoy_pct", "DOUBLE"), ("unit", "VARCHAR"))


PRELIMINARY = GaccPreliminaryDataset("gacc_preliminary")
DATASETS: dict[str, GaccDataset | GaccPreliminaryDataset] = {COUNTRY_TABLE.name: COUNTRY_TABLE,
                                                             PRELIMINARY.name: PRELIMINARY}
PUBLISHER = Publisher(
    name=SOURCE, title="GACC", datasets=DATASETS, key_variable="GACC_API_KEY (none needed)",
    key_signup="http://english.customs.gov.cn (no key)", key_param="", key_location="params", key_required=False,
)


def skips_month(month: date) -> bool:
    """February is never a release of its own: it comes with January."""
    return month.month == 2


def revision_months(reference: date) -> set[str]:
    """None known: the final tables replace the preliminary figures within the month."""
    return set()


class _Cells(HTMLParser):
    """Collects headings, table rows (cell texts) and the links in each row, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, object]] = []  # ("heading", text) | ("row", (cells, links)) | ("text", text)
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "tr":
            self._row, self._links = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            self._href, self._link_text = dict(attrs).get("href"), []
        elif tag in ("h1", "h2", "h3", "h4", "caption"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.events.append(("row", (self._row, self._links)))
            self._row = None
        elif tag == "a" and self._href is not None:
            self._links.append(("".join(self._link_text).strip(), self._href))
            self._href = None
        elif tag in ("h1", "h2", "h3", "h4", "caption") and self._heading is not None:
            self.events.append(("heading", " ".join("".join(self._heading).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        for sink in (self._cell, self._heading):
            if sink is not None:
                sink.append(data)
        if self._href is not None:
            self._link_text.append(data)
        if data.strip():
            self.events.append(("text", data.strip()))


def find_month_page(index_html: str, period: date, title: re.Pattern = REPORT_TITLE) -> str | None:
    """The link to the report `title` for `period` on an index page, or None if that month is not out yet."""
    parser = _Cells()
    parser.feed(index_html)
    year = None
    for kind, payload in parser.events:
        if kind == "heading" and (found := re.search(r"\b(19|20)\d{2}\b", str(payload))):
            year = int(found.group(0))
        if kind != "row" or year != period.year:
            continue
        cells, links = payload
        if not cells or not title.search(cells[0]):
            continue
        for text, href in links:
            if MONTH_LINKS.get(text.lower().replace(" ", "")) == period.month and href:
                return href
    return None


def fetch_parts(transport: Transport, base_url: str, ds: GaccDataset, period: date,
                what: str) -> list[tuple[str, Request, Response]]:
    if skips_month(period):
        raise NotYetPublished(f"{what}: GACC publishes February together with January; the January release "
                              "holds both")
    preliminary = isinstance(ds, GaccPreliminaryDataset)
    index_path, title = (PRELIMINARY_PATH, PRELIMINARY_TITLE) if preliminary else (INDEX_PATH, REPORT_TITLE)
    index_request = Request(base_url + index_path)
    index = transport.send(index_request)
    check_response(index, what)
    href = find_month_page(index.body.decode("utf-8", "replace"), period, title)
    if href is None:
        raise NotYetPublished(f"{what}: the GACC index has no link to this month's report yet. This is normal "
                              "before the release (about the 7th-10th; January and February together in March)",
                              url=index.url, status=index.status)
    page_request = Request(urljoin(base_url + index_path, href))
    page = transport.send(page_request)
    check_response(page, what)
    if "unit" not in page.body.decode("utf-8", "replace").lower():
        raise BrokenResponse(f"{what}: the month page has no 'Unit:' line; it is not the country table",
                             url=page.url, status=page.status)
    return [("preliminary" if preliminary else "country_table", page_request, page)]


def check_response(response: Response, what: str, period: date | None = None) -> None:
    """GACC serves HTML: an answer is usable if it is a page with a table, not a firewall challenge."""
    if response.status == 200 and b"<table" in response.body.lower():
        return
    if response.status != 200:  # 204, redirects, 4xx, 412 geo-block, 5xx: the shared outcomes
        check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_GACC_BASE_URL")
    raise BrokenResponse(f"{what}: the page has no table (a firewall challenge or an error page)",
                         url=response.url, status=response.status)


def _number(text: str, what: str, cast=int):
    text = text.replace(",", "").replace("\u00a0", "").strip()
    if text in BLANKS:
        return None
    try:
        return cast(text)
    except ValueError:
        raise ReleaseFormatError(f"{what}: {text!r} is not a number") from None


def _page(html: str, period: date, what: str, units: tuple[str, ...]) -> tuple[_Cells, int, str]:
    """Parse a report page; check its unit and that it states the period asked for. (cells, months, unit)"""
    parser = _Cells()
    parser.feed(html)
    texts = " ".join(str(p) for k, p in parser.events if k in ("text", "heading"))
    unit = re.search(r"Unit\s*[:：]\s*([A-Za-z$]+\s?(?:1,000|100\s+million))", texts)
    if not unit:
        raise ReleaseFormatError(f"{what}: no 'Unit:' line on the page")
    unit_text = " ".join(unit.group(1).split())
    if unit_text.replace(" ", "") not in units:
        raise ReleaseFormatError(f"{what}: unit {unit_text!r}; the parser expects {' or '.join(units)}")
    label = re.search(r"\b(1-2|\d{1,2})\.((?:19|20)\d{2})\b", texts)
    if not label:
        raise ReleaseFormatError(f"{what}: the page does not state its period (like 5.2025 or 1-2.2025)")
    months = 2 if label.group(1) == "1-2" else 1
    first_month = 1 if months == 2 else int(label.group(1))
    if (int(label.group(2)), first_month) != (period.year, period.month):
        raise ReleaseFormatError(f"{what}: the page is for {label.group(0)}, not the period asked for")
    return parser, months, unit_text


def parse_preliminary(html: str, period: date, what: str) -> tuple[int, str, list[dict]]:
    """(months in the period, unit, rows) of a preliminary release page: total, exports, imports, balance."""
    parser, months, unit_text = _page(html, period, what, ("USD100million", "US$100million"))
    rows = []
    for kind, payload in parser.events:
        cells = payload[0] if kind == "row" else []
        item = PRELIMINARY_ITEMS.get(cells[0].strip().rstrip(":").lower()) if len(cells) == 6 else None
        if item is None or not re.search(r"\d", "".join(cells[1:])):
            continue
        values = [_number(c, f"{what} {item}", float) for c in cells[1:]]
        rows.append(dict(zip(("item", "value_month", "value_ytd", "mom_pct", "yoy_pct", "ytd_yoy_pct"),
                             [item, *values], strict=True)))
    missing = sorted({"total", "exports", "imports", "balance"} - {r["item"] for r in rows})
    if missing:
        raise ReleaseFormatError(f"{what}: the preliminary table lacks {missing}")
    return months, unit_text, rows


def parse_country_table(html: str, period: date, what: str) -> tuple[int, str, list[dict]]:
    """(months in the period, unit, rows) of a country table page; checks the page is the period asked for."""
    parser, months, unit_text = _page(html, period, what, ("US$1,000", "USD1,000"))
    rows = []
    for kind, payload in parser.events:
        if kind != "row":
            continue
        cells, _ = payload
        if len(cells) != 10 or not cells[0] or not re.search(r"\d", "".join(cells[1:])):
            continue  # header rows and layout rows
        region = cells[0].strip()
        row = {"region": region.rstrip(":").strip(), "is_subtotal": region.endswith(":")}
        for column, cell in zip(VALUE_COLUMNS, cells[1:7], strict=True):
            row[column] = _number(cell, f"{what} {region} {column}")
        for column, cell in zip(PCT_COLUMNS, cells[7:10], strict=True):
            row[column] = _number(cell, f"{what} {region} {column}", float)
        rows.append(row)
    if not any(r["region"].upper() == "TOTAL" for r in rows):
        raise ReleaseFormatError(f"{what}: the country table has no TOTAL row")
    return months, unit_text, rows


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: GaccDataset | GaccPreliminaryDataset, part: str,
               what: str, period: date) -> str:
    """Parse a landed report page (HTML, so in Python; a few hundred rows at most) into a temp table."""
    html = Path(path).read_text(encoding="utf-8", errors="replace")
    columns = [c for c, _ in ds.data_columns]
    if isinstance(ds, GaccPreliminaryDataset):
        months, unit, rows = parse_preliminary(html, period, what)
        values = [[period, months, *(r[c] for c in columns[2:-1]), unit] for r in rows]
    else:
        months, unit, rows = parse_country_table(html, period, what)
        values = [[period, months, r["region"], REGIONS.get(r["region"]), r["is_subtotal"],
                   *(r[c] for c in VALUE_COLUMNS), *(r[c] for c in PCT_COLUMNS), unit] for r in rows]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _gacc_part ({', '.join(f'{c} {t}' for c, t in ds.data_columns)})")
    con.executemany(f"INSERT INTO _gacc_part VALUES ({', '.join('?' for _ in columns)})", values)
    return f"SELECT {', '.join(columns)} FROM _gacc_part"
