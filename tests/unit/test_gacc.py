"""GACC: index navigation, the country table's quirks, January-February as one period, clear errors."""

from datetime import date

import duckdb
import pytest

from tests.conftest import Reply
from tradewatch import errors
from tradewatch.http import HttpTransport, Request, Response
from tradewatch.sample import gacc as sample
from tradewatch.settings import HttpPolicy
from tradewatch.sources import gacc
from tradewatch.sources.base import SourceClient

ROW = "<tr>" + "<td><span>{}</span></td>" * 10 + "</tr>"


def page(label: str, rows: list[list[str]], unit: str = "US$1,000") -> str:
    body = "".join(ROW.format(*r) for r in rows)
    return (f"<html><body><h2>China's Total Export &amp; Import Values by Country (Region), {label} (in USD)</h2>"
            f"<p>Unit: {unit}</p><table><tr><td>Country (Region)</td><td>Total</td></tr>{body}</table></body></html>")


GOOD_ROWS = [
    ["TOTAL", "528,780,000", "2,450,534,180", "316,000,000", "1,446,167,680", "212,780,000", "1,004,366,500",
     "1.3", "4.8", "-3.4"],
    ["North America:", "41,000,000", "200,000,000", "30,000,000", "150,000,000", "11,000,000", "50,000,000",
     "-", "—", "－"],
    ["United States", "39,600,000", "190,000,000", "28,800,000", "140,000,000", "10,800,000", "50,000,000",
     "-32.0", "-34.5", "-18.1"],
]


def test_the_country_table_parses_with_blanks_subtotals_and_separators():
    months, unit, rows = gacc.parse_country_table(page("5.2025", GOOD_ROWS), date(2025, 5, 1), "t")
    assert (months, unit) == (1, "US$1,000")
    by_region = {r["region"]: r for r in rows}
    assert by_region["North America"]["is_subtotal"] and not by_region["United States"]["is_subtotal"]
    assert by_region["North America"]["pct_change_exports"] is None  # '—' is a blank, never 0
    assert by_region["United States"]["exports_month"] == 28_800_000
    assert by_region["United States"]["pct_change_imports"] == -18.1


@pytest.mark.parametrize(
    ("html", "period", "message"),
    [
        (page("4.2025", GOOD_ROWS), date(2025, 5, 1), "not the period asked for"),
        (page("5.2025", GOOD_ROWS, unit="US$ 100 million"), date(2025, 5, 1), "unit"),
        (page("5.2025", GOOD_ROWS[1:]), date(2025, 5, 1), "TOTAL"),
        (page("5.2025", [GOOD_ROWS[0][:3] + ["n/a"] + GOOD_ROWS[0][4:]]), date(2025, 5, 1), "n/a"),
        ("<html><p>Unit: US$1,000</p><table></table></html>", date(2025, 5, 1), "period"),
    ],
    ids=["wrong-period", "wrong-unit", "no-total", "junk-number", "no-period-label"],
)
def test_layout_changes_fail_loudly(html, period, message):
    with pytest.raises(errors.ReleaseFormatError, match=message):
        gacc.parse_country_table(html, period, "t")


def test_january_and_february_are_one_period_never_february():
    months, _, rows = gacc.parse_country_table(sample.render_table(date(2025, 1, 1)).decode(), date(2025, 1, 1), "t")
    assert months == 2
    total = next(r for r in rows if r["region"] == "TOTAL")
    assert total["exports_month"] == total["exports_ytd"]  # the period is the whole year so far
    assert gacc.skips_month(date(2025, 2, 1)) and not gacc.skips_month(date(2025, 1, 1))
    index = sample.render_index(date(2024, 1, 1), date(2025, 6, 1)).decode()
    assert gacc.find_month_page(index, date(2025, 1, 1)) == sample._page_path(date(2025, 1, 1))
    assert gacc.find_month_page(index, date(2025, 7, 1)) is None  # not out yet
    # the USD country table, not the CNY one or another report in the same index
    assert gacc.find_month_page(index, date(2025, 5, 1)) == sample._page_path(date(2025, 5, 1), "USD")


class Site:
    def __init__(self, pages: dict[str, tuple[int, bytes]]):
        self.pages, self.asked = pages, []

    def send(self, request: Request) -> Response:
        self.asked.append(request.url)
        status, body = self.pages.get(request.url.split("english.customs.gov.cn")[-1], (404, b"not found"))
        return Response(status, body, request.url)


BASE = "http://english.customs.gov.cn"


def test_the_client_reads_the_index_then_the_month_page():
    index = sample.render_index(date(2024, 1, 1), date(2025, 6, 1))
    site = Site({gacc.INDEX_PATH: (200, index),
                 sample._page_path(date(2025, 5, 1)): (200, sample.render_table(date(2025, 5, 1)))})
    [(part, request, response)] = SourceClient(gacc, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 5, 1))
    assert part == "country_table" and site.asked[0] == BASE + gacc.INDEX_PATH
    assert request.url == BASE + sample._page_path(date(2025, 5, 1))
    with pytest.raises(errors.NotYetPublished, match="no link"):
        SourceClient(gacc, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 7, 1))
    with pytest.raises(errors.NotYetPublished, match="together with January"):
        SourceClient(gacc, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 2, 1))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(200, b"<html><script>var challenge=1;</script></html>", errors.BrokenResponse),
     (412, b"", errors.GeoBlocked), (503, b"", errors.PublisherUnavailable)],
    ids=["firewall-challenge", "geo-block", "down"],
)
def test_bad_pages(status, body, error):
    site = Site({gacc.INDEX_PATH: (status, body)})
    with pytest.raises(error):
        SourceClient(gacc, site, BASE).fetch_release(gacc.COUNTRY_TABLE, date(2025, 5, 1))


def test_live_http_against_a_local_server(fake_publisher, tmp_path):
    index = sample.render_index(date(2025, 1, 1), date(2025, 5, 1)).decode()
    publisher = fake_publisher(Reply(200, index.encode(), {"Content-Type": "text/html"}),
                               Reply(200, sample.render_table(date(2025, 5, 1)), {"Content-Type": "text/html"}))
    transport = HttpTransport(HttpPolicy(max_attempts=1, min_interval_seconds=0))
    [(_, _, response)] = SourceClient(gacc, transport, publisher.base_url).fetch_release(gacc.COUNTRY_TABLE,
                                                                                          date(2025, 5, 1))
    assert publisher.requests == [gacc.INDEX_PATH, sample._page_path(date(2025, 5, 1))]
    path = tmp_path / "p.html"
    path.write_bytes(response.body)
    con = duckdb.connect()
    rows = con.execute(gacc.stage_part(con, path, gacc.COUNTRY_TABLE, "country_table", "t", date(2025, 5, 1))
                       + " WHERE partner_iso3 = 'USA'").fetchall()
    assert rows[0][5:8] == (28_800_000 + 10_800_000, rows[0][6], 28_800_000)


def test_the_preliminary_release_parses_and_is_found_on_its_own_index():
    months, unit, rows = gacc.parse_preliminary(sample.render_preliminary(date(2025, 5, 1)).decode(),
                                                date(2025, 5, 1), "t")
    by_item = {r["item"]: r for r in rows}
    assert (months, unit) == (1, "USD 100 million")
    assert by_item["exports"]["value_month"] == 3160.0 and by_item["balance"]["value_month"] == 1032.2
    assert by_item["total"]["ytd_yoy_pct"] is None  # '-' is a blank
    index = sample.render_preliminary_index(date(2024, 1, 1), date(2025, 6, 1)).decode()
    assert gacc.find_month_page(index, date(2025, 5, 1), gacc.PRELIMINARY_TITLE) == sample._page_path(
        date(2025, 5, 1), "PRELIM")
    assert gacc.find_month_page(index, date(2025, 5, 1)) is None  # the country-table title is not on this index
    broken = sample.render_preliminary(date(2025, 5, 1)).decode().replace("<td>Balance</td>", "<td>Net</td>")
    with pytest.raises(errors.ReleaseFormatError, match="balance"):
        gacc.parse_preliminary(broken, date(2025, 5, 1), "t")
