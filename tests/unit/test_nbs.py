"""NBS new data platform: pinned segments, stitched windows, firewall pages, "" = not yet published."""

import json
from datetime import date

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES
from tradewatch import errors
from tradewatch.http import Request, Response
from tradewatch.sources import nbs
from tradewatch.sources.base import SourceClient

BASE = "https://data.stats.gov.cn/dg/website/publicrelease/web/external"


def esdata(rows) -> bytes:
    return json.dumps({"data": [{"code": code, "values": [{"_id": ind, "value": value}]}
                                for code, ind, value in rows], "success": True}).encode()


CPI_2025 = nbs.SEGMENTS[1].indicator_id
CPI_2026 = nbs.SEGMENTS[2].indicator_id
PPI = nbs.SEGMENTS[3].indicator_id


def test_requests_pin_ids_send_browser_headers_and_split_at_a_rebase():
    parts = nbs.release_requests(BASE, nbs.PRICE_INDEXES, date(2026, 3, 1))
    assert [p for p, _ in parts] == ["CPI:2021-01", "CPI:2026-01", "PPI:1993-01"]
    bodies = [json.loads(r.body) for _, r in parts]
    assert [b["dts"] for b in bodies] == [["202504MM-202512MM"], ["202601MM-202603MM"], ["202504MM-202603MM"]]
    assert all(isinstance(b["dts"], list) and b["daCatalogId"] == "" for b in bodies)
    assert dict(parts[0][1].headers)["Referer"].startswith("https://data.stats.gov.cn/")
    assert [p for p, _ in nbs.release_requests(BASE, nbs.PRICE_INDEXES, date(2025, 5, 1))] == [
        "CPI:2021-01", "PPI:1993-01"]


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (Response(200, b"<html><script>challenge()</script></html>", BASE), errors.BrokenResponse),
        (Response(412, b"", BASE), errors.GeoBlocked),
        (Response(200, b'{"success": false, "data": null}', BASE), errors.BrokenResponse),
        (Response(200, esdata([("202505MM", PPI, "96.7")])[:-5], BASE), errors.BrokenResponse),
    ],
    ids=["firewall-challenge", "geo-block", "success-false", "truncated"],
)
def test_bad_answers(response, error):
    with pytest.raises(error):
        nbs.check_response(response, "nbs_price_indexes 2025-05")


class Script:
    def __init__(self, *bodies):
        self.bodies = list(bodies)

    def send(self, request: Request) -> Response:
        return Response(200, self.bodies.pop(0), request.url)


def test_an_empty_value_for_the_reference_month_is_not_yet_published():
    client = SourceClient(nbs.PUBLISHER, Script(esdata([("202505MM", CPI_2025, "99.9")]),
                                                esdata([("202505MM", PPI, "")])), BASE)
    with pytest.raises(errors.NotYetPublished, match="PPI"):
        client.fetch_release(nbs.PRICE_INDEXES, date(2025, 5, 1))


@pytest.mark.parametrize(
    ("cpi", "message"),
    [(esdata([("202505MM", "another-indicator", "99.9")]), "no value of CPI:2021-01"),
     (b'{"data": [], "success": true}', "no value of CPI:2021-01"),
     (b'{"data": [{"date": "2025-05", "v": "99.9"}], "success": true}', "not {code: YYYYMMMM")],
    ids=["renamed-indicator", "nothing-for-a-published-window", "another-row-shape"],
)
def test_an_answer_of_unknown_layout_is_a_layout_change_never_not_yet(cpi, message):
    client = SourceClient(nbs.PUBLISHER, Script(cpi, esdata([("202505MM", PPI, "96.7")])), BASE)
    with pytest.raises(errors.PageLayoutChanged, match=message):
        client.fetch_release(nbs.PRICE_INDEXES, date(2025, 5, 1))


def test_nothing_for_a_window_of_the_unpublished_month_alone_is_not_yet():
    """January 2026 opens a new CPI segment whose window is that month only: an empty answer is NBS saying 'not yet'."""
    empty = b'{"data": [], "success": true}'
    client = SourceClient(nbs.PUBLISHER, Script(esdata([("202512MM", CPI_2025, "100.8")]), empty,
                                                esdata([("202601MM", PPI, "")])), BASE)
    with pytest.raises(errors.NotYetPublished, match="CPI, PPI"):
        client.fetch_release(nbs.PRICE_INDEXES, date(2026, 1, 1))


def test_a_window_across_the_rebase_is_stitched_from_both_segments(tmp_path):
    old = esdata([("202512MM", CPI_2025, "100.8")])
    new = esdata([("202601MM", CPI_2026, "100.2"), ("202602MM", CPI_2026, "100.4")])
    ppi = esdata([("202512MM", PPI, "97.1"), ("202601MM", PPI, "97.3"), ("202602MM", PPI, "97.6")])
    parts = SourceClient(nbs.PUBLISHER, Script(old, new, ppi), BASE).fetch_release(nbs.PRICE_INDEXES, date(2026, 2, 1))
    con = duckdb.connect()
    rows = []
    for name, _, response in parts:
        path = tmp_path / name.replace(":", "_")
        path.write_bytes(response.body)
        rows += con.execute(nbs.stage_part(con, path, nbs.PRICE_INDEXES, name, "t", date(2026, 2, 1))).fetchall()
    cpi = sorted((r[0], float(r[3])) for r in rows if r[1] == "CPI")
    assert cpi == [(date(2025, 12, 1), 100.8), (date(2026, 1, 1), 100.2), (date(2026, 2, 1), 100.4)]


def test_malformed_values_are_errors_never_zero(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(esdata([("202505MM", PPI, "96,7")]))
    with pytest.raises(errors.ReleaseFormatError, match="96,7"):
        nbs.stage_part(duckdb.connect(), path, nbs.PRICE_INDEXES, "PPI", "t", date(2025, 5, 1))


def test_conformance_nbs_samples():
    con = duckdb.connect()
    fixture = REAL_SAMPLES / "nbs_new_api_stream_esData_fixture.json"
    rows = con.execute(nbs.stage_part(con, fixture, nbs.PRICE_INDEXES, "PPI", "t", date(2026, 7, 1))).fetchall()
    # "" (July, not published) is dropped, an indicator we did not ask for is ignored
    assert [(r[0], r[1], float(r[3])) for r in rows] == [(date(2026, 6, 1), "PPI", 104.1)]
    nbs.check_response(Response(200, fixture.read_bytes(), BASE), "t")
    legacy = nbs.parse_legacy(REAL_SAMPLES / "nbs_easyquery_legacy_hgyd_A010101_real_trimmed.json")
    assert (date(2019, 8, 1), "A01010101", 102.8) in legacy  # strdata, the published rounding
    assert (date(2019, 9, 1), "A01010101", None) in legacy  # hasdata false: missing, not zero
