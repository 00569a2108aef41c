"""UN Comtrade v1: preview-sized requests, key in a header, empty = not yet, the cap refused, real sample parsed;
the basket lines fetched cover the basket seed and the rerouting monitor's planted lines."""

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES, Reply, make_settings
from tradewatch import errors, pipeline
from tradewatch.http import Response
from tradewatch.sample import comtrade as sample
from tradewatch.sources import comtrade

MAY = date(2025, 5, 1)
KEY = "0123456789abcdef0123456789abcdef"
URL = "https://comtradeapi.un.org/public/v1/preview/C/M/HS"


def test_requests_pin_breakdowns_and_fit_the_preview_cap():
    requests = comtrade.release_requests("https://comtradeapi.un.org/public/v1/preview", comtrade.CN_MONTHLY, MAY)
    for name, request in requests:
        params = dict(request.params)
        assert (params["partner2Code"], params["customsCode"], params["motCode"]) == ("0", "C00", "0")
        assert params["period"] == "202505" and params["reporterCode"] == "156" and params["flowCode"] == "X,M"
        body = json.loads(sample.render(MAY, name, *next((p, c) for n, p, c in comtrade.PARTS if n == name)))
        assert 0 < body["count"] < comtrade.PREVIEW_CAP  # every answer fits one keyless call


def test_every_six_digit_basket_line_and_planted_rerouting_line_is_fetched():
    """China's side of a basket (marts.commodity_trade_monthly) and the rerouting monitor's line-level evidence
    (int_china_exports_by_partner) exist only for the HS6 lines the client asks Comtrade for: a line the seed names
    but the client does not fetch silently leaves China's side of that basket short."""
    from tradewatch.locations import shipped_dir
    from tradewatch.sample.census import REROUTED

    with (shipped_dir("dbt_project") / "seeds" / "commodity_baskets.csv").open(newline="") as seed:
        named = {(row["basket"], row["hs_code"]) for row in csv.DictReader(seed)}
    lines = {code for _, code in named if len(code) == 6}
    assert {"851712", "851713", "854140", "854142", "854143", "842211"} <= lines  # the seed is read
    fetched = set(comtrade.BASKET_HS6)
    assert sorted(lines - fetched) == [], "basket seed lines Comtrade is not asked for (add them to BASKET_HS6)"
    planted = {code for code, _ in REROUTED}
    assert sorted(planted - fetched) == [], "rerouted sample lines without China-side HS6 evidence"
    assert len(comtrade.BASKET_HS6) == len(fetched)  # no line asked for twice
    assert all(len(code) == 6 and code.isdigit() for code in fetched)
    # the worst case (every partner trades every line both ways) stays under the keyless preview's cap
    records = len(comtrade.PARTNERS) * 2 * len(comtrade.BASKET_HS6)
    assert records < comtrade.PREVIEW_CAP
    source = Path(comtrade.__file__).read_text()
    assert f"{records} records" in source[source.index("PREVIEW_CAP = "):source.index("PARTS = (")]  # its comment


def answer(data, error="") -> bytes:
    return json.dumps({"elapsedTime": "0.1 secs", "count": len(data), "data": data, "error": error}).encode()


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (Response(200, answer([]), URL), errors.NotYetPublished, "weeks to months"),
        (Response(200, answer([{"x": 1}] * 500), URL), errors.BrokenResponse, "cap"),
        (Response(200, answer([], error="Invalid period"), URL), errors.RequestRejected, "Invalid period"),
        (Response(200, b"Request URL Too Long", URL), errors.BrokenResponse, "not the JSON"),
        (Response(401, b'{"statusCode": 401, "message": "Access denied due to invalid subscription key."}', URL),
         errors.KeyRejected, "COMTRADE_API_KEY"),
        (Response(429, b'{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 4 seconds."}', URL),
         errors.PublisherUnavailable, "kept failing"),
    ],
    ids=["empty", "cap-reached", "error-field", "plain-text", "invalid-key", "rate-limited"],
)
def test_outcomes(response, error, words):
    with pytest.raises(error, match=words):
        comtrade.check_response(response, "comtrade_cn_monthly 2025-05", MAY)


def test_the_key_selects_the_data_endpoint_and_travels_in_a_header(fake_publisher, tmp_path):
    body = sample.render(MAY, "partner_totals", tuple(comtrade.PARTNERS), "TOTAL")
    publisher = fake_publisher(Reply(200, body, {"Content-Type": "application/json"}))
    keyless = make_settings(tmp_path / "a")
    assert keyless.sources["comtrade"].base_url.endswith("/public/v1/preview")
    keyed = make_settings(tmp_path / "b", TRADEWATCH_SOURCE_MODE="live", COMTRADE_API_KEY=KEY)
    assert keyed.sources["comtrade"].base_url == "https://comtradeapi.un.org/data/v1/get"
    live = make_settings(tmp_path / "c", TRADEWATCH_SOURCE_MODE="live", COMTRADE_API_KEY=KEY,
                         TRADEWATCH_COMTRADE_BASE_URL=publisher.base_url + "/data/v1/get")
    pipeline.fetch(live, "comtrade_cn_monthly", ["2025-05"])
    assert all(h.get("Ocp-Apim-Subscription-Key") == KEY for h in publisher.headers_seen)
    assert all(KEY not in path for path in publisher.requests)
    assert all(KEY not in p.read_text() for p in (live.landing_dir / "manifests").rglob("*.json"))
    assert len(publisher.requests) == len(comtrade.PARTS)


def test_monthly_staging_refuses_annual_records(tmp_path):
    path = tmp_path / "annual.json"
    record = json.loads(sample.render(MAY, "partner_totals", (842,), "TOTAL"))["data"][0] | {"period": "2025"}
    path.write_bytes(answer([record]))
    with pytest.raises(errors.ReleaseFormatError, match="not monthly"):
        comtrade.stage_part(duckdb.connect(), path, comtrade.CN_MONTHLY, "p", "t", MAY)


def test_conformance_real_comtrade_samples():
    con = duckdb.connect()
    comtrade.read_records(con, REAL_SAMPLES / "comtrade_data_v1_get_C_A_HS_reporter156_real.json", "t", "r")
    rows = con.execute('SELECT "partnerCode", "flowCode", "primaryValue", cifvalue, fobvalue FROM r '
                       'ORDER BY 1, 2').fetchall()
    assert (32, "M", 6804128143.0, 6804128143.0, None) in rows  # CIF on imports, no FOB
    assert all(r[4] is None for r in rows if r[1] == "M") and all(r[3] is None for r in rows if r[1] == "X")
    # a missing quantity is JSON null with the unit "N/A": it stays missing, never zero
    assert con.execute("SELECT count(*) FILTER (WHERE qty IS NULL), count(*) FILTER (WHERE qty = 0) FROM r "
                       "WHERE \"qtyUnitAbbr\" = 'N/A'").fetchall() == [(4, 0)]
    empty = REAL_SAMPLES / "comtrade_empty_result_real.json"
    with pytest.raises(errors.NotYetPublished):
        comtrade.check_response(Response(200, empty.read_bytes(), URL), "t", MAY)
