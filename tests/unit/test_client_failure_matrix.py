"""Every publisher's client against a local server on 127.0.0.1, through the same faults.

The good answer for each publisher is the sample archive's answer to its first request of a release.
"""

import contextlib
from datetime import date

import pytest

from tests.conftest import Reply
from tradewatch import errors
from tradewatch.http import HttpPolicy, HttpTransport, ReleaseArchive, Request, Response
from tradewatch.sources import PUBLISHERS
from tradewatch.sources.base import Publisher, SourceClient

MONTH = date(2025, 5, 1)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class FirstRequest:
    """A transport that records the first request of a release and answers "not yet" (204) to it."""

    as_of = None
    request: Request | None = None

    def send(self, request: Request) -> Response:
        self.request = self.request or request
        return Response(204, b"", request.public_url)


def first_request(publisher: Publisher, base_url: str) -> Request:
    """The first request a release makes, however the publisher fetches (GACC: its index page)."""
    recorder = FirstRequest()
    with contextlib.suppress(errors.NotYetPublished):
        SourceClient(publisher, recorder, base_url).fetch_release(next(iter(publisher.datasets.values())), MONTH)
    assert recorder.request is not None
    return recorder.request


def good_body(publisher: Publisher, small_archive) -> bytes:
    response = ReleaseArchive(small_archive).get(first_request(publisher, publisher.base_url))
    assert response.status == 200, f"the sample archive has no answer for {publisher.name}"
    return response.body


def run(publisher: Publisher, server, *, attempts=3, read_timeout=5.0):
    sleeps = Sleeps()
    policy = HttpPolicy(connect_timeout=2, read_timeout=read_timeout, max_attempts=attempts, backoff_seconds=0.01,
                        min_interval_seconds=0)
    transport = HttpTransport(policy, sleep=sleeps)
    response = transport.send(first_request(publisher, server.base_url))
    publisher.check_response(response, f"{publisher.name} test", None)
    return response, sleeps


HTML = b"<html><head><title>Request Rejected</title></head><body>Please enable JavaScript</body></html>"
FAILURES = {
    "204": ([Reply(204)], errors.NotYetPublished),
    "400": ([Reply(400, b"error: unknown variable 'XYZ'")], errors.RequestRejected),
    "401": ([Reply(401, b'{"message": "invalid subscription key"}')], errors.KeyRejected),
    "403": ([Reply(403, b"Forbidden")], errors.KeyRejected),
    "412": ([Reply(412, b"")], errors.GeoBlocked),
    "500-persistent": ([Reply(500, b"There was an error while running your query.")], errors.PublisherUnavailable),
    "html-with-200": ([Reply(200, HTML)], errors.BrokenResponse),
}
NAMES = sorted(PUBLISHERS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", list(FAILURES))
def test_each_failure_has_its_outcome(fake_publisher, name, case):
    replies, error = FAILURES[case]
    publisher = fake_publisher(*replies)
    with pytest.raises(error):
        run(PUBLISHERS[name], publisher)
    retried = case == "500-persistent"
    assert len(publisher.requests) == (3 if retried else 1)  # only 5xx, 429 and network faults are retried


@pytest.mark.parametrize("name", NAMES)
def test_429_retry_after_5xx_bursts_and_cut_bodies_are_survived(fake_publisher, small_archive, name):
    body = good_body(PUBLISHERS[name], small_archive)
    publisher = fake_publisher(Reply(429, b"Rate limit is exceeded.", {"Retry-After": "3"}), Reply(503),
                               Reply(200, body, truncate=True), Reply(200, body))
    response, sleeps = run(PUBLISHERS[name], publisher, attempts=5)
    assert response.body == body
    assert sleeps[0] == 3.0 and len(sleeps) == 3 and len(publisher.requests) == 4


@pytest.mark.parametrize("name", NAMES)
def test_timeouts_end_in_a_clear_failure(fake_publisher, small_archive, name):
    publisher = fake_publisher(Reply(200, good_body(PUBLISHERS[name], small_archive), delay=1.0))
    with pytest.raises(errors.PublisherUnavailable, match="Timeout"):
        run(PUBLISHERS[name], publisher, attempts=2, read_timeout=0.2)
