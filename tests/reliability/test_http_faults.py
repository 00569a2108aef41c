"""HTTP faults for every publisher, through the real pipeline (fetch, land, load, validate) in live mode against a
local server that replays the archive: what is survivable is survived with the same warehouse as a clean run; what
is not fails fast and clearly, naming the release and the URL without its key, and lands nothing."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_settings
from tests.reliability.conftest import Fault, fingerprint, scenario
from tradewatch import errors, pipeline
from tradewatch.sources import PUBLISHERS

pytestmark = pytest.mark.slow  # the fault-injection suite: minutes, run by `make test` and CI

PERIOD = "2025-05"
KEYS = {"CENSUS_API_KEY": "census-KEY-0123456789", "BLS_API_KEY": "bls-KEY-0123456789",
        "COMTRADE_API_KEY": "comtrade-KEY-0123456789"}
NAMES = sorted(PUBLISHERS)


def live_settings(tmp_path, server, **extra):
    name = server.publisher.upper()
    return make_settings(tmp_path, TRADEWATCH_SOURCE_MODE="live", **{f"TRADEWATCH_{name}_BASE_URL": server.base_url},
                         TRADEWATCH_HTTP_MAX_ATTEMPTS="4", TRADEWATCH_HTTP_READ_TIMEOUT="0.5", **{**KEYS, **extra})


def refresh(settings, publisher: str) -> list[dict]:
    results = []
    for dataset, ds in PUBLISHERS[publisher].datasets.items():
        period = PERIOD if int(PERIOD[5:]) in ds.release_months else "2024-12"  # an annual dataset: its December
        results.append(pipeline.fetch(settings, dataset, [period], as_of="2025-07-15"))
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)
    return results


def landed(settings) -> list:
    return sorted((settings.landing_dir / "manifests").rglob("*.json")) if settings.landing_dir.exists() else []


@pytest.fixture(params=NAMES)
def baseline(request, tmp_path_factory, replay_server):
    """A clean run of the publisher's datasets for the month: what every survived fault must reproduce."""
    name = request.param
    server = replay_server(name)
    settings = live_settings(tmp_path_factory.mktemp(f"clean-{name}"), server)
    results = refresh(settings, name)
    assert all(r["landed"] == 1 for r in results), results
    return name, fingerprint(settings.duckdb_path, ("raw",))


SURVIVABLE = {
    "429 with Retry-After": [Fault("status", 429, b"Rate limit is exceeded.", {"Retry-After": "1"})],
    "5xx burst then success": [Fault("status", 503), Fault("status", 502), Fault("status", 500)],
    "timeout then success": [Fault("delay", delay=1.5)],
    "connection reset": [Fault("reset")],
    "truncated body": [Fault("truncate")],
}


@scenario("HTTP", "429, 5xx bursts, timeouts, resets, truncated bodies (every publisher)",
          "retried with backoff (Retry-After honoured); the warehouse is identical to a clean run's")
@pytest.mark.parametrize("fault", list(SURVIVABLE))
def test_survivable_faults_leave_the_same_warehouse_as_a_clean_run(baseline, fault, tmp_path, replay_server):
    name, clean = baseline
    server = replay_server(name, SURVIVABLE[fault])
    settings = live_settings(tmp_path, server)
    refresh(settings, name)
    assert fingerprint(settings.duckdb_path, ("raw",)) == clean
    assert len(server.requests) > len(SURVIVABLE[fault])  # it did retry


FATAL = {
    "persistent 5xx": ([Fault("status", 500, b"There was an error while running your query.")], True,
                       "kept failing after every retry", None),
    "HTML firewall page with 200": ([Fault("status", 200, b"<html><body>Request Rejected. Enable JavaScript."
                                                          b"</body></html>", {"Content-Type": "text/html"})],
                                    False, "HTML page came back|firewall", 1),
    "412 geo-block": ([Fault("status", 412)], False, r"\(412\)", 1),
}


@scenario("HTTP", "persistent 5xx, HTML with 200, 412 geo-block (every publisher)",
          "a clear error naming the release and the URL without its key, after bounded attempts (one for a "
          "geo-block or a firewall page: no retry storm); nothing landed or loaded")
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fault", list(FATAL))
def test_fatal_faults_fail_clearly_and_land_nothing(name, fault, tmp_path, replay_server):
    faults, repeat, expected, requests = FATAL[fault]
    server = replay_server(name, faults, repeat=repeat)
    settings = live_settings(tmp_path, server)
    dataset = next(iter(PUBLISHERS[name].datasets))
    with pytest.raises(errors.SourceError) as caught:
        pipeline.fetch(settings, dataset, [PERIOD], as_of="2025-07-15")
    message = str(caught.value)
    assert f"{dataset} {PERIOD}" in message and "127.0.0.1" in message
    assert re.search(expected, message), message
    assert not any(key in message for key in KEYS.values())
    assert len(server.requests) == (4 if repeat else requests)
    assert landed(settings) == []


@scenario("HTTP", "missing and invalid API keys",
          "a missing required key stops before any request with where to get one; a rejected key fails at once "
          "(no retries) and the key appears in no message")
def test_missing_and_invalid_keys(tmp_path, replay_server):
    server = replay_server("census")
    settings = live_settings(tmp_path, server, CENSUS_API_KEY="")
    with pytest.raises(errors.TradewatchError, match="CENSUS_API_KEY is not set.*key_signup"):
        pipeline.fetch(settings, "census_imports_hs", [PERIOD])
    assert server.requests == []

    rejecting = replay_server("census", [Fault("status", 200, b"<html>Invalid Key: census-KEY-0123456789</html>",
                                               {"Content-Type": "text/html"})], repeat=True)
    settings = live_settings(tmp_path / "2", rejecting)
    with pytest.raises(errors.SourceError) as caught:
        pipeline.fetch(settings, "census_imports_hs", [PERIOD])
    assert "census-KEY-0123456789" not in str(caught.value) and len(rejecting.requests) == 1
    bls = replay_server("bls", [Fault("status", 200, b'{"status": "REQUEST_NOT_PROCESSED", "message": ["The key '
                                                     b'bls-KEY-0123456789 provided by the User is invalid."]}')],
                        repeat=True)
    settings = live_settings(tmp_path / "3", bls)
    with pytest.raises(errors.SourceError) as caught:
        pipeline.fetch(settings, "bls_series", [PERIOD])
    assert "bls-KEY-0123456789" not in str(caught.value)
    assert all(b"bls-KEY-0123456789" in raw for raw in bls.raw)  # the key did go to the publisher (in the body)
