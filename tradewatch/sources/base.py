"""The one interface every publisher provides, the answer checks they share, and the client that fetches a release.

A publisher module (tradewatch.sources.<name>) defines its datasets, requests, answer checks and parsers, and ends
with one `PUBLISHER = Publisher(...)` stating everything the rest of the project uses of it: the settings factory
(URLs, key, pages, calendar), the planner (calendar, revisions, skipped months, backfills), `SourceClient` below
(fetch and checks), the loader in tradewatch.warehouse (`stage_part`, `stage_files`), the quality suites (the
datasets' specs) and the command line. Nothing is looked up on the module itself: a hook that is not a field of
`Publisher` does not exist.

  name, title      "census", "Census": the registry key, the raw tables' `source`, the name in messages
  datasets         {raw table: dataset spec}; a `DatasetSpec` has name, source, headline_var, release_months (the
                   months of the year it has releases for) and data_columns
  key              `ApiKey` (environment variable, where to get one, the name and place it is sent under, required
                   or not), or None: a publisher without keys, for which no variable is read and nothing is sent
  base_url         the default API root (TRADEWATCH_<NAME>_BASE_URL overrides it); `keyed_base_url`: the default
                   instead when the key is set (Comtrade's data endpoint; without a key, its preview)
  pages            named pages under the base URL that the client navigates (GACC's index pages); the settings turn
                   each into a URL, overridable with TRADEWATCH_<NAME>_<PAGE>_URL
  calendar         `ReleaseCalendar`: month M is normally out by `day` of month M + `months_after`
                   (TRADEWATCH_<NAME>_RELEASE_DAY overrides the day); before it "not published" is normal, after it
                   a late-release warning
  revision_months  reference month -> the months (periods.Month) revised in that release, fetched again
  skips_month      month -> True for a month never released on its own (GACC's February comes with January)
  backfills        False for a publisher that serves only what is in force now (USITC): only the latest is planned
  fetch            how a release is fetched: `PlainRequests` (a fixed list of requests from the base URL, each answer
                   checked by `check_response`, then all of them by the optional cross-part `check_release`) or
                   `Navigation` (requests that depend on earlier answers: GACC's index pages, Census's chapter
                   fallback), which fetches and checks every part itself
  check_response   (response, what, period) -> None, or the error that says what the answer means
  stage_part       (con, path, dataset, part, what, period) -> SQL selecting the raw table's data columns from one
                   landed file
  stage_files      optional (con, paths, dataset, what) -> SQL selecting `file` and the data columns from many
                   landed files at once: the dataset loads in batches (one pass, one transaction per batch)

The registry is `tradewatch.sources.PUBLISHERS`. A field stated wrongly fails at import (`Publisher.__post_init__`,
naming the publisher and the field); tests/unit/test_publisher_interface.py fails when a publisher module is not
registered, or grows a public function its PUBLISHER does not reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tradewatch.errors import (
    BrokenResponse,
    GeoBlocked,
    KeyRejected,
    NotYetPublished,
    PublisherUnavailable,
    RequestRejected,
)
from tradewatch.http import Request, Response, Transport
from tradewatch.periods import Month, format_month

if TYPE_CHECKING:
    import duckdb

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


#: One fetched part of a release: (part name, the request, the checked answer).
Part = tuple[str, Request, Response]
# The hooks' shapes. Their dataset parameter is the publisher's own dataset class (a DatasetSpec).
#: (base_url, dataset, period) -> [(part name, request)]
ReleaseRequests = Callable[[str, Any, date], list[tuple[str, Request]]]
#: (parts, what, period) -> None, or the error that says what the release as a whole means
CheckRelease = Callable[[list[Part], str, date], None]
#: (response, what, period or None) -> None, or the error that says what the answer means
CheckResponse = Callable[[Response, str, date | None], None]
#: (con, path, dataset, part, what, period) -> SQL selecting the raw table's data columns from one landed file
StagePart = Callable[["duckdb.DuckDBPyConnection", Path, Any, str, str, date], str]
#: (con, paths, dataset, what) -> SQL selecting `file` and the data columns from many landed files
StageFiles = Callable[["duckdb.DuckDBPyConnection", Sequence[Path], Any, str], str]


@dataclass(frozen=True)
class Endpoint:
    """Where one publisher is reached in this run: its base URL and its named pages (defaults, mirrors or a test
    server, from the settings)."""

    base_url: str
    pages: Mapping[str, str] = field(default_factory=dict)  # page name -> URL (GACC: index, year_index)


#: (transport, endpoint, dataset, period, what) -> every part of the release, checked.
FetchParts = Callable[[Transport, Endpoint, Any, date, str], list[Part]]


@dataclass(frozen=True)
class PlainRequests:
    """A release is a fixed list of requests built from the base URL: each answer is checked alone
    (`Publisher.check_response`), then, if `check_release` is set, all of them together (NBS: every series has the
    month in one of its catalogue segments)."""

    requests: ReleaseRequests
    check_release: CheckRelease | None = None


@dataclass(frozen=True)
class Navigation:
    """A release whose requests depend on earlier answers (GACC: the index pages link the month's pages; Census: a
    query refused as too broad is asked again chapter by chapter). `fetch_parts` fetches and checks every part."""

    fetch_parts: FetchParts


@dataclass(frozen=True)
class ApiKey:
    """How a publisher takes an API key. The settings factory reads `variable`; the live transport adds the key at
    send time, so no stored URL, manifest or request body holds it."""

    variable: str  # environment variable holding the key
    signup: str  # where to get a key
    param: str  # the name the key is sent under
    location: Literal["params", "headers", "body"]  # query string, request header, or JSON body of a POST
    required: bool  # live requests without a key are refused by the publisher


@dataclass(frozen=True)
class ReleaseCalendar:
    """Month M is normally published by `day` of month M + `months_after` (a period that includes the next month,
    GACC's January-February, a month later)."""

    months_after: int
    day: int


def never_skips(month: date) -> bool:
    """Every month is a release of its own."""
    return False


_NAME = re.compile(r"[a-z][a-z0-9]*")
_PAGE = re.compile(r"[a-z][a-z0-9_]*")
_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class Publisher:
    """Everything a publisher provides (see the module docstring for each field)."""

    name: str
    title: str
    datasets: Mapping[str, DatasetSpec]
    key: ApiKey | None
    base_url: str
    calendar: ReleaseCalendar
    revision_months: Callable[[date], set[Month]]
    fetch: PlainRequests | Navigation
    check_response: CheckResponse
    stage_part: StagePart
    stage_files: StageFiles | None = None
    keyed_base_url: str | None = None
    pages: Mapping[str, str] = field(default_factory=dict)  # page name -> path under the base URL
    skips_month: Callable[[date], bool] = never_skips
    backfills: bool = True

    def __post_init__(self) -> None:
        """A publisher that states a field wrongly fails at import, naming the publisher and the field."""
        problem = (self._identity_problem() or self._dataset_problem() or self._location_problem()
                   or self._hook_problem())
        if problem:
            raise ValueError(f"publisher {self.name!r}: {problem}")

    def _identity_problem(self) -> str | None:
        if not _NAME.fullmatch(self.name or ""):
            return "name must be lower-case letters and digits (it names the TRADEWATCH_<NAME>_* settings)"
        if not self.title:
            return "title is empty"
        if self.key is not None and not (isinstance(self.key, ApiKey) and _VARIABLE.fullmatch(self.key.variable)
                                         and self.key.param and self.key.location in ("params", "headers", "body")):
            return ("key must be None or an ApiKey with an upper-case variable, a param name and a location among "
                    "params, headers, body")
        if not (isinstance(self.calendar, ReleaseCalendar) and 0 <= self.calendar.months_after <= 12
                and 1 <= self.calendar.day <= 28):
            return "calendar must be a ReleaseCalendar with months_after from 0 to 12 and a day from 1 to 28"
        if not isinstance(self.backfills, bool):
            return "backfills must be True or False"
        return None

    def _dataset_problem(self) -> str | None:
        if not self.datasets:
            return "datasets is empty"
        for key, ds in self.datasets.items():
            if key != ds.name or ds.source != self.name:
                return f"dataset {key!r} has name {ds.name!r} and source {ds.source!r}; both must match"
            if not ds.headline_var or not ds.data_columns or not ds.release_months \
                    or not set(ds.release_months) <= set(EVERY_MONTH):
                return f"dataset {key!r} needs a headline_var, data columns and release months from 1 to 12"
        return None

    def _location_problem(self) -> str | None:
        for label, url in (("base_url", self.base_url), ("keyed_base_url", self.keyed_base_url or "https://")):
            if not url.startswith(("https://", "http://")):
                return f"{label} must be an http(s) URL, not {url!r}"
        if self.keyed_base_url and self.key is None:
            return "keyed_base_url needs a key"
        for page, path in self.pages.items():
            if not _PAGE.fullmatch(page) or not path.startswith("/"):
                return f"page {page!r}: a name is a lower-case identifier and a path starts with '/' ({path!r})"
        return None

    def _hook_problem(self) -> str | None:
        if isinstance(self.fetch, PlainRequests):
            fetch_hooks = {"fetch.requests": self.fetch.requests, "fetch.check_release": self.fetch.check_release}
        elif isinstance(self.fetch, Navigation):
            fetch_hooks = {"fetch.fetch_parts": self.fetch.fetch_parts}
        else:
            return "fetch must be PlainRequests(...) or Navigation(...)"
        hooks = {"revision_months": self.revision_months, "check_response": self.check_response,
                 "stage_part": self.stage_part, "skips_month": self.skips_month, "stage_files": self.stage_files,
                 **fetch_hooks}
        optional = {"stage_files", "fetch.check_release"}
        for label, hook in hooks.items():
            if not callable(hook) and not (hook is None and label in optional):
                return f"{label} must be a function, not {hook!r}"
        return None

    def page_urls(self, base_url: str) -> dict[str, str]:
        """The named pages under `base_url` (the default, a mirror or a test server)."""
        return {page: base_url.rstrip("/") + path for page, path in self.pages.items()}


def check_http_answer(response: Response, what: str, publisher: Publisher, *, base_url_variable: str) -> str:
    """The checks every publisher shares; return the start of the body (decoded) when the answer may carry data.

    204 is "not yet published"; redirects, 401/403 and key-error headers are a rejected key; 412 is a geo-block;
    other 4xx a rejected request; 429 and 5xx (already retried by the transport) an unavailable publisher; a
    200 whose body is an HTML page is a key page or a firewall page, never data.
    """
    status, url = response.status, response.url
    text = response.body[:2000].decode("utf-8", "replace").strip()
    lowered = text.lower()
    name, key = publisher.title, publisher.key
    if status == 204:
        raise NotYetPublished(f"{what}: {name} has not published this month yet (204 No Content). This is normal "
                              "before the release day; the next run will try again", url=url, status=status)
    if 300 <= status < 400 or response.header("X-DataWebAPI-KeyError") or status in (401, 403):
        target = response.header("Location") or ""
        redirected = f" (redirected to {target})" if target else ""
        if key is None:  # a publisher without keys: access itself was refused
            raise KeyRejected(f"{what}: {name} refused access{redirected}; it may block this network or client. "
                              f"Try another network, or a mirror via {base_url_variable}", url=url, status=status)
        raise KeyRejected(f"{what}: {name} refused the key{redirected}. Set {key.variable} to an activated key (get "
                          f"one at {key.signup})", url=url, status=status)
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
            advice = (f"Set {key.variable} to an activated key" if key is not None else
                      f"{name} takes no key: it may block this network or client; try a mirror via {base_url_variable}")
            raise KeyRejected(f"{what}: {name} answered with an HTML page about the API key. {advice}",
                              url=url, status=status)
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
    """Fetches releases of one publisher through any transport (live HTTP or replay of an archive).

    `pages`: the publisher's named pages as the settings resolved them; by default, under `base_url`."""

    def __init__(self, publisher: Publisher, transport: Transport, base_url: str,
                 pages: Mapping[str, str] | None = None) -> None:
        self.publisher = publisher
        self.transport = transport
        base = base_url.rstrip("/")
        self.endpoint = Endpoint(base, dict(pages) if pages is not None else publisher.page_urls(base))

    def fetch_release(self, ds: DatasetSpec, period: date) -> list[Part]:
        """Every part of one release, checked. Raises NotYetPublished if any part is not out yet."""
        what = f"{ds.name} {format_month(period)}"
        self.transport.as_of = format_month(period)  # a replay answers as the publisher did when this release came out
        fetch = self.publisher.fetch
        if isinstance(fetch, Navigation):
            return fetch.fetch_parts(self.transport, self.endpoint, ds, period, what)
        parts = []
        for name, request in fetch.requests(self.endpoint.base_url, ds, period):
            response = self.transport.send(request)
            self.publisher.check_response(response, what, period)
            parts.append((name, request, response))
        if fetch.check_release is not None:
            fetch.check_release(parts, what, period)
        return parts
