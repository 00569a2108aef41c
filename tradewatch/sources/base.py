"""What every publisher module provides, and the answer checks they share.

A publisher module (tradewatch.sources.<name>) exposes:
  PUBLISHER  a `Publisher` describing it (name, datasets, key variable, where to get a key)
  release_requests(base_url, dataset, period) -> [(part name, Request)]
  check_response(response, what, period)     raise the error that says what the answer means
  check_release(parts, what, period)         optional: checks that need every part of the release
  fetch_parts(transport, base_url, dataset, period, what, index_urls=...)  optional, instead of
                                             release_requests: for sites whose pages must be found by navigation
                                             (GACC's index pages; `index_urls` from the settings), or whose parts
                                             depend on earlier answers (Census's chapter fallback)
  skips_month(month) -> bool                 optional: months that are never a release of their own
  revision_months(reference month) -> {YYYY-MM}  months this publisher revises in that release (fetched again)
  stage_part(con, path, dataset, part, what, period) -> SQL selecting the raw table's data columns from the file
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Protocol

from tradewatch.errors import (
    BrokenResponse,
    GeoBlocked,
    KeyRejected,
    NotYetPublished,
    PublisherUnavailable,
    RequestRejected,
)
from tradewatch.http import Request, Response, Transport
from tradewatch.periods import format_month

#: The release months of a monthly dataset.
EVERY_MONTH: tuple[int, ...] = tuple(range(1, 13))


class DatasetSpec(Protocol):
    """One raw table fed by one publisher."""

    name: str  # raw table name; also the dataset id in manifests, audit tables and suites
    source: str  # publisher name
    headline_var: str  # the value column that totals a release (for the suite's size check)
    release_months: tuple[int, ...]  # the months of the year it has a release for: EVERY_MONTH, or (12,) for an
    # annual dataset read from December's year-to-date values; planning, fetching and the CLI ask for no other

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]: ...  # (column, DuckDB type), lineage excluded


@dataclass(frozen=True)
class Publisher:
    name: str  # "census", "bls", ...
    title: str
    datasets: dict[str, DatasetSpec]
    key_variable: str  # environment variable holding the API key
    key_signup: str  # where to get a key
    key_param: str  # the name the key is sent under
    key_location: str  # "params" (query string) or "body" (JSON body of a POST)
    key_required: bool  # live requests without a key are refused by the publisher


def check_http_answer(response: Response, what: str, publisher: Publisher, *, base_url_variable: str) -> str:
    """The checks every publisher shares; return the start of the body (decoded) when the answer may carry data.

    204 is "not yet published"; redirects, 401/403 and key-error headers are a rejected key; 412 is a geo-block;
    other 4xx a rejected request; 429 and 5xx (already retried by the transport) an unavailable publisher; a
    200 whose body is an HTML page is a key page or a firewall page, never data.
    """
    status, url = response.status, response.url
    text = response.body[:2000].decode("utf-8", "replace").strip()
    lowered = text.lower()
    name, key = publisher.title, publisher.key_variable
    if status == 204:
        raise NotYetPublished(f"{what}: {name} has not published this month yet (204 No Content). This is normal "
                              "before the release day; the next run will try again", url=url, status=status)
    if 300 <= status < 400 or response.header("X-DataWebAPI-KeyError") or status in (401, 403):
        target = response.header("Location") or ""
        redirected = f" (redirected to {target})" if target else ""
        if not publisher.key_param:  # a publisher without keys: access itself was refused
            raise KeyRejected(f"{what}: {name} refused access{redirected}; it may block this network or client. "
                              f"Try another network, or a mirror via {base_url_variable}", url=url, status=status)
        raise KeyRejected(f"{what}: {name} refused the key{redirected}. Set {key} to an activated key (get one at "
                          f"{publisher.key_signup})", url=url, status=status)
    if status == 412:
        raise GeoBlocked(f"{what}: {name} blocks requests from this network (412). Retrying will not help; run "
                         f"from another network or use a mirror via {base_url_variable}", url=url, status=status)
    if status == 429 or status >= 500:
        raise PublisherUnavailable(f"{what}: {name} kept failing after every retry: {text[:200]!r}",
                                   url=url, status=status)
    if 400 <= status < 500:
        raise RequestRejected(f"{what}: {name} rejected the request: {text[:300]!r}. A variable, series or "
                              "parameter may have been renamed", url=url, status=status)
    if status != 200:
        raise BrokenResponse(f"{what}: unexpected HTTP status", url=url, status=status)
    if text.startswith("<"):
        if "key" in lowered and ("invalid" in lowered or "missing" in lowered):
            raise KeyRejected(f"{what}: {name} answered with an HTML page about the API key. Set {key} to an "
                              "activated key", url=url, status=status)
        raise BrokenResponse(f"{what}: an HTML page came back where JSON was expected (an error or firewall "
                             "page); nothing was loaded", url=url, status=status)
    return text


def json_document(response: Response, what: str):
    """The decoded JSON body, or a BrokenResponse naming the release and the URL."""
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise BrokenResponse(f"{what}: the body is not valid JSON ({exc})", url=response.url,
                             status=response.status) from None


def check_complete_json(response: Response, what: str, opening: str, closing: bytes) -> None:
    """The body starts like the publisher's JSON and is not cut short."""
    text = response.body[:200].decode("utf-8", "replace").strip()
    if not text.startswith(opening):
        raise BrokenResponse(f"{what}: the body is not the JSON the publisher sends: {text[:120]!r}",
                             url=response.url, status=response.status)
    if not response.body.rstrip().endswith(closing):
        raise BrokenResponse(f"{what}: the body is truncated (the JSON does not end); the transfer was cut short, "
                             "the next run will fetch it again", url=response.url, status=response.status)


class SourceClient:
    """Fetches releases of one publisher through any transport (live HTTP or replay of an archive)."""

    def __init__(self, publisher: ModuleType, transport: Transport, base_url: str,
                 index_urls: tuple[str, str] | None = None) -> None:
        self.publisher = publisher
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.index_urls = index_urls  # for publishers navigated through index pages (GACC)

    def fetch_release(self, ds: DatasetSpec, period: date) -> list[tuple[str, Request, Response]]:
        """Every part of one release, checked. Raises NotYetPublished if any part is not out yet."""
        what = f"{ds.name} {format_month(period)}"
        if hasattr(self.transport, "as_of"):  # a replay answers as the publisher did when this release came out
            self.transport.as_of = format_month(period)
        if hasattr(self.publisher, "fetch_parts"):  # publishers whose pages must be found by navigation
            return self.publisher.fetch_parts(self.transport, self.base_url, ds, period, what,
                                              index_urls=self.index_urls)
        parts = []
        for name, request in self.publisher.release_requests(self.base_url, ds, period):
            response = self.transport.send(request)
            self.publisher.check_response(response, what, period)
            parts.append((name, request, response))
        if hasattr(self.publisher, "check_release"):  # checks that need every part (e.g. stitched segments)
            self.publisher.check_release(parts, what, period)
        return parts
