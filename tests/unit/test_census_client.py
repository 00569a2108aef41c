"""The Census client against a local HTTP server on 127.0.0.1: every outcome has its own clear error."""

from datetime import date

import pytest

from tests.conftest import Reply
from tradewatch import errors
from tradewatch.http import HttpPolicy, HttpTransport, Request, Response, retry_after_seconds
from tradewatch.sources import census
from tradewatch.sources.base import SourceClient

KEY = "0123456789abcdef0123456789abcdef01234567"
GOOD = (b'[["CTY_CODE","CTY_NAME","I_COMMODITY","GEN_VAL_MO","COMM_LVL","time"],'
        b'["5700","CHINA","85","10","HS2","2025-05"]]')
MAY = date(2025, 5, 1)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(publisher, *, attempts=4, read_timeout=5.0, sleeps=None):
    policy = HttpPolicy(connect_timeout=2, read_timeout=read_timeout, max_attempts=attempts, backoff_seconds=0.01,
                        max_backoff_seconds=30, min_interval_seconds=0)
    transport = HttpTransport(policy, secret_params={"key": KEY}, sleep=sleeps if sleeps is not None else Sleeps())
    return SourceClient(census.PUBLISHER, transport, publisher.base_url + "/data/timeseries/intltrade")


def fetch_one(client):
    request = census.build_request(client.endpoint.base_url, census.IMPORTS, MAY, "HS2")
    response = client.transport.send(request)
    census.check_response(response, "census_imports_hs 2025-05")
    return response


def test_request_uses_repeated_parameters_and_no_key_in_the_public_url():
    request = census.build_request("https://api.census.gov/data/timeseries/intltrade", census.IMPORTS, MAY, "HS6")
    assert request.params.count(("CTY_CODE", "5700")) == 1 and ("CTY_CODE", "-") in request.params
    assert ("COMM_LVL", "HS6") in request.params and ("time", "2025-05") in request.params
    get = dict(request.params)["get"].split(",")
    assert {"GEN_VAL_MO", "CON_VAL_MO", "CAL_DUT_MO", "DUT_VAL_MO", "SUMMARY_LVL"} <= set(get)
    assert "key" not in request.public_url
    assert request.public_url.startswith("https://api.census.gov/data/timeseries/intltrade/imports/hs?get=")


def test_success_sends_the_key_but_never_stores_it(fake_publisher):
    publisher = fake_publisher(Reply(200, GOOD, {"Content-Type": "application/json"}))
    response = fetch_one(client_for(publisher))
    assert response.body == GOOD
    assert f"key={KEY}" in publisher.requests[0]  # sent to the publisher ...
    assert KEY not in response.url  # ... but not kept in the URL we store
    assert "CTY_CODE=5700&CTY_CODE=5820&CTY_CODE=5520&CTY_CODE=2010&CTY_CODE=-" in publisher.requests[0]


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply(204), errors.NotYetPublished, "not published this month yet"),
        (Reply(302, b"", {"Location": "https://api.census.gov/data/missing_key.html"}), errors.KeyRejected,
         "CENSUS_API_KEY"),
        (Reply(200, b"<html>Invalid Key</html>", {"X-DataWebAPI-KeyError": "1"}), errors.KeyRejected, "key"),
        (Reply(403, b"forbidden"), errors.KeyRejected, "activated key"),
        (Reply(412, b"Precondition Failed"), errors.GeoBlocked, "Retrying will not help"),
        (Reply(400, b"error: unknown variable 'GEN_VAL_MOX'"), errors.RequestRejected, "GEN_VAL_MOX"),
        (Reply(200, b"<html><body>Missing key. Sign up</body></html>"), errors.KeyRejected, "HTML page"),
        (Reply(200, b"<!DOCTYPE html><title>Request Rejected</title>"), errors.BrokenResponse, "firewall"),
        (Reply(200, b"error: There was an error while running your query."), errors.RequestRejected, "error"),
        (Reply(200, b"Service temporarily down"), errors.BrokenResponse, "not the JSON the publisher sends"),
        (Reply(200, GOOD[:-20]), errors.BrokenResponse, "truncated"),
    ],
    ids=["204", "302-missing-key", "key-error-header", "403", "412", "400-text", "html-missing-key-200",
         "firewall-200", "text-error-200", "plain-text-200", "truncated-json"],
)
def test_each_outcome_has_its_own_error(fake_publisher, reply, error, words):
    publisher = fake_publisher(reply)
    with pytest.raises(error, match=words) as exc:
        fetch_one(client_for(publisher))
    message = str(exc.value)
    assert KEY not in message
    assert "census_imports_hs 2025-05" in message  # names the release
    assert "/imports/hs?get=" in message  # names the URL, without its key
    assert len(publisher.requests) == 1  # none of these is retried


def test_429_honours_retry_after_then_succeeds(fake_publisher):
    publisher = fake_publisher(Reply(429, b"slow down", {"Retry-After": "7"}), Reply(200, GOOD))
    sleeps = Sleeps()
    assert fetch_one(client_for(publisher, sleeps=sleeps)).body == GOOD
    assert sleeps == [7.0]
    assert len(publisher.requests) == 2


def test_a_burst_of_5xx_is_retried_with_growing_backoff(fake_publisher):
    publisher = fake_publisher(Reply(503), Reply(500), Reply(502), Reply(200, GOOD))
    sleeps = Sleeps()
    assert fetch_one(client_for(publisher, attempts=5, sleeps=sleeps)).body == GOOD
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2]


def test_persistent_5xx_fails_clearly_after_bounded_attempts(fake_publisher):
    publisher = fake_publisher(Reply(500, b"There was an error while running your query."))
    with pytest.raises(errors.PublisherUnavailable, match="kept failing") as exc:
        fetch_one(client_for(publisher, attempts=3))
    assert len(publisher.requests) == 3
    assert KEY not in str(exc.value)


def test_timeouts_are_retried_then_fail_without_leaking_the_key(fake_publisher):
    publisher = fake_publisher(Reply(200, GOOD, delay=1.5))
    with pytest.raises(errors.PublisherUnavailable, match="Timeout") as exc:
        fetch_one(client_for(publisher, attempts=2, read_timeout=0.3))
    assert len(publisher.requests) == 2
    assert KEY not in str(exc.value)


def test_a_body_cut_short_in_transfer_is_retried(fake_publisher):
    publisher = fake_publisher(Reply(200, GOOD, truncate=True), Reply(200, GOOD))
    assert fetch_one(client_for(publisher)).body == GOOD
    assert len(publisher.requests) == 2


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 30) == 30.0
    assert retry_after_seconds("soon") is None


def test_client_fetches_every_part_of_a_release_and_stops_at_204():
    class Script:
        def __init__(self, statuses):
            self.statuses = list(statuses)
            self.sent: list[Request] = []

        def send(self, request):
            self.sent.append(request)
            status = self.statuses.pop(0)
            return Response(status, GOOD if status == 200 else b"", request.public_url, {})

    transport = Script([200] * 10)
    parts = SourceClient(census.PUBLISHER, transport, "https://x/intltrade").fetch_release(census.EXPORTS, MAY)
    assert [name for name, _, _ in parts] == ["HS2", "HS4", "HS6", *(f"HS10_{c}" for c in census.HS10_CHAPTERS)]
    assert all("/exports/hs" in r.url for r in transport.sent)
    hs10 = dict(transport.sent[3].params)  # HS10 comes chapter by chapter: one query for all is refused
    assert hs10["COMM_LVL"] == "HS10" and hs10["E_COMMODITY"] == "12*"
    client = SourceClient(census.PUBLISHER, Script([200, 204, 200]), "https://x/intltrade")
    with pytest.raises(errors.NotYetPublished):
        client.fetch_release(census.EXPORTS, MAY)
