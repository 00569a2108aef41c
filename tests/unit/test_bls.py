"""BLS v2: request, answer checks (errors live in `status` and `message`), parser on real samples, live POST."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REAL_SAMPLES, Reply, make_settings
from tradewatch import errors, pipeline
from tradewatch.http import HttpPolicy, HttpTransport, Response
from tradewatch.landing import LandingZone
from tradewatch.sources import bls
from tradewatch.sources.base import SourceClient

KEY = "f00dfeedf00dfeedf00dfeedf00dfeed"
MAY = date(2024, 5, 1)


def answer(status="REQUEST_SUCCEEDED", messages=(), series=None) -> bytes:
    series = series if series is not None else [
        {"seriesID": sid, "data": [{"year": "2024", "period": "M05", "periodName": "May", "value": "100.5",
                                    "footnotes": [{}]}]} for sid in bls.SERIES]
    return json.dumps({"status": status, "responseTime": 10, "message": list(messages),
                       "Results": {"series": series}}).encode()


def check(body: bytes, period=MAY, status=200):
    bls.check_response(Response(status, body, "https://api.bls.gov/publicAPI/v2/timeseries/data/"), "bls_series "
                       "2024-05", period)


def test_one_post_for_every_series_and_two_years():
    [(part, request)] = bls.release_requests("https://api.bls.gov/publicAPI/v2", bls.SERIES_DATASET, MAY)
    body = json.loads(request.body)
    assert request.method == "POST" and request.url.endswith("/timeseries/data/")
    assert body["seriesid"] == list(bls.SERIES) and (body["startyear"], body["endyear"]) == ("2023", "2024")
    assert "registrationkey" not in body


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (answer("REQUEST_NOT_PROCESSED", [f"The key: {KEY} provided by the User is invalid."]),
         errors.KeyRejected, "renew"),
        (answer("REQUEST_NOT_PROCESSED", ["Request could not be serviced, as the daily threshold for total number "
                                          "of requests allocated to the user has been reached."]),
         errors.PublisherUnavailable, "next run"),
        (answer("REQUEST_FAILED_OVER_CAPACITY"), errors.PublisherUnavailable, "OVER_CAPACITY"),
        (answer(messages=["Series does not exist for Series EIUCOCHNTOX"]), errors.RequestRejected, "series"),
        (answer(messages=["Year range has been reduced to the system-allowed limit of 20 years."]),
         errors.BrokenResponse, "unexpected messages"),
        (answer(series=[]), errors.NotYetPublished, "not published 2024-05"),
        (b"<html><title>Access Denied</title></html>", errors.BrokenResponse, "HTML"),
        (answer()[:-30], errors.BrokenResponse, "truncated"),
    ],
    ids=["invalid-key", "daily-quota", "over-capacity", "unknown-series", "truncated-range", "month-missing",
         "html-200", "truncated-body"],
)
def test_each_bls_outcome_has_its_own_error(body, error, words):
    with pytest.raises(error, match=words) as exc:
        check(body)
    assert KEY not in str(exc.value)


def test_no_data_messages_are_normal_and_a_missing_reference_month_is_not_yet_published():
    check(answer(messages=["No Data Available for Series CUUR0000SA0 Year: 2025"]))
    with pytest.raises(errors.NotYetPublished):
        check(answer(), period=date(2024, 6, 1))


def stage(path: Path, period=MAY):
    con = duckdb.connect()
    sql = bls.stage_part(con, path, bls.SERIES_DATASET, "series", "bls_series test", period)
    return con.execute(sql + " ORDER BY series_id, period").fetchall()


def test_values_are_exact_a_dash_is_missing_and_junk_is_an_error(tmp_path):
    series = [{"seriesID": "WPUFD4", "data": [
        {"year": "2024", "period": "M05", "value": "-", "footnotes": [{"code": "P", "text": "Preliminary."}]},
        {"year": "2024", "period": "M04", "value": "147.123", "footnotes": [{}]},
        {"year": "2023", "period": "M13", "value": "140.000", "footnotes": [{}]},
        {"year": "2024", "period": "M06", "value": "150.000", "footnotes": [{}]}]}]
    path = tmp_path / "a.json"
    path.write_bytes(answer(series=series))
    rows = stage(path)
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        (date(2024, 4, 1), Decimal("147.123"), "", False), (date(2024, 5, 1), None, "P", True)]
    series[0]["data"][1]["value"] = "147,1"
    path.write_bytes(answer(series=series))
    with pytest.raises(errors.ReleaseFormatError, match="147,1"):
        stage(path)
    del series[0]["data"][1]["value"]
    path.write_bytes(answer(series=series))
    with pytest.raises(errors.ReleaseFormatError, match="schema drift"):
        stage(path)


def bls_samples():
    return sorted(REAL_SAMPLES.glob("bls_v2_*.json"))


def test_conformance_real_bls_samples():
    by_name = {p.name: p for p in bls_samples()}
    cpi = by_name["bls_v2_CUUR0000SA0_real.json"]
    check(cpi.read_bytes(), period=None)  # a valid answer ...
    with pytest.raises(errors.NotYetPublished, match="WPUFD4, EIUCOCHNTOT, EIUIR"):
        check(cpi.read_bytes(), period=MAY)  # ... but it holds CPI only, so for our release it is incomplete
    rows = stage(cpi)
    assert (date(2024, 5, 1), "CUUR0000SA0") == rows[-1][:2] and float(rows[-1][2]) == 314.069
    assert float([r for r in rows if r[0] == date(2024, 1, 1)][0][2]) == 308.417
    assert float([r for r in rows if r[0] == date(2023, 12, 1)][0][2]) == 306.746
    old = by_name["bls_v2_messages_no_data_years_real_excerpt.json"]
    check(old.read_bytes(), period=None)  # "No Data Available for Series X Year: YYYY" messages are normal
    rows = stage(old, date(2020, 4, 1))
    assert len(rows) == 5 and all(r[0].year in (2019, 2020) for r in rows)  # the M13 annual average is dropped


def test_live_post_sends_the_key_in_the_body_and_stores_it_nowhere(fake_publisher, tmp_path):
    publisher = fake_publisher(Reply(200, answer()))
    policy = HttpPolicy(connect_timeout=2, read_timeout=5, max_attempts=2, backoff_seconds=0.01,
                        min_interval_seconds=0)
    client = SourceClient(bls.PUBLISHER, HttpTransport(policy, secret_body={"registrationkey": KEY}),
                          publisher.base_url + "/publicAPI/v2")
    [(part, request, response)] = client.fetch_release(bls.SERIES_DATASET, MAY)
    sent = json.loads(publisher.bodies[0])
    assert sent["registrationkey"] == KEY and sent["seriesid"] == list(bls.SERIES)
    assert KEY not in publisher.requests[0] and KEY not in response.url and KEY not in request.body

    settings = make_settings(tmp_path / "d", TRADEWATCH_SOURCE_MODE="live", BLS_API_KEY=KEY,
                             TRADEWATCH_BLS_BASE_URL=publisher.base_url + "/publicAPI/v2")
    pipeline.fetch(settings, "bls_series", ["2024-05"])
    landed = list((settings.landing_dir / "manifests").rglob("*.json"))
    assert landed and all(KEY not in p.read_text() for p in landed)
    manifest = LandingZone(settings.landing_dir).read_manifest(landed[0])
    assert json.loads(manifest.parts[0].request_body)["seriesid"] == list(bls.SERIES)


def test_the_sample_revises_preliminary_months_in_later_releases():
    from tradewatch.sample import bls as sample

    may = {d["period"]: d for d in json.loads(sample.render(date(2025, 5, 1)))["Results"]["series"][1]["data"]
           if d["year"] == "2025"}
    september = {d["period"]: d for d in json.loads(sample.render(date(2025, 9, 1)))["Results"]["series"][1]["data"]
              if d["year"] == "2025"}
    assert may["M05"]["footnotes"] == [{"code": "P", "text": "Preliminary."}] and september["M05"]["footnotes"] == [{}]
    assert may["M05"]["value"] != september["M05"]["value"]  # PPI final four months after first release
    assert may["M01"]["value"] == september["M01"]["value"]
