"""How requests reach a publisher: live over HTTP, or replayed from a release archive.

A client builds `Request`s (never containing a key) and hands them to a transport. The live transport adds the
secret parameters at send time, retries what is worth retrying and rate-limits itself; the replay transport answers
from files on disk exactly as the publisher would, 204 included. Clients and parsers are the same for both.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import requests

from tradewatch.errors import ConfigurationError, PublisherUnavailable
from tradewatch.redact import guard_third_party_logs, redact

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Set by the replay transport on answers from a synthetic archive, so synthetic data is labelled downstream.
SYNTHETIC_HEADER = "X-Tradewatch-Synthetic"


@dataclass(frozen=True)
class HttpPolicy:
    """How the live transport waits, retries and paces itself (settings.http, from TRADEWATCH_HTTP_*)."""

    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 120.0
    min_interval_seconds: float = 0.5


@dataclass(frozen=True)
class Request:
    """One request, without any secret: a GET, or a POST when it has a JSON `body`.

    `params` keeps order and repeated names. Secrets (keys) are added by the live transport at send time only.
    """

    url: str
    params: tuple[tuple[str, str], ...] = ()
    body: str | None = None  # JSON text of a POST body
    headers: tuple[tuple[str, str], ...] = ()  # non-secret headers the publisher expects (Referer, Origin)

    @property
    def method(self) -> str:
        return "GET" if self.body is None else "POST"

    @property
    def public_url(self) -> str:
        return f"{self.url}?{urlencode(self.params)}" if self.params else self.url

    @property
    def archive_key(self) -> str:
        """Order-insensitive identity of the request, used to file and find it in a release archive."""
        key = f"{self.url.split('://', 1)[-1]}?{urlencode(sorted(self.params))}"
        if self.body is not None:
            canonical = json.dumps(json.loads(self.body), sort_keys=True, separators=(",", ":"))
            key += f"#POST:{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"
        return key


@dataclass
class Response:
    status: int
    body: bytes
    url: str  # public URL: never carries a key
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class Transport(Protocol):
    #: The month (YYYY-MM) whose release is being fetched, set by the client before each release: a replay answers as
    #: the publisher did when that release came out; a live transport answers as the publisher does now.
    as_of: str | None

    def send(self, request: Request) -> Response: ...


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpTransport:
    """requests with timeouts, bounded retries with exponential backoff and jitter, Retry-After, a rate limit."""

    as_of: str | None = None  # ignored: the live publisher answers as it does now

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        secret_params: Mapping[str, str] | None = None,
        secret_headers: Mapping[str, str] | None = None,
        secret_body: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.policy = policy
        self._secret_params = dict(secret_params or {})
        self._secret_headers = dict(secret_headers or {})
        self._secret_body = dict(secret_body or {})
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = "tradewatch/0.1 (+https://github.com/tradewatch/tradewatch)"
        self._last_request_at = 0.0
        self._secrets = [*self._secret_params.values(), *self._secret_headers.values(), *self._secret_body.values()]
        guard_third_party_logs(self._secrets)

    def _wait_for_rate_limit(self) -> None:
        gap = self.policy.min_interval_seconds - (time.monotonic() - self._last_request_at)
        if gap > 0:
            self._sleep(gap)
        self._last_request_at = time.monotonic()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.policy.max_backoff_seconds)
        base = self.policy.backoff_seconds * 2 ** (attempt - 1)
        return min(base + random.uniform(0, base / 2), self.policy.max_backoff_seconds)

    def send(self, request: Request) -> Response:
        params = list(request.params) + list(self._secret_params.items())
        json_body = None if request.body is None else {**json.loads(request.body), **self._secret_body}
        last_problem = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            self._wait_for_rate_limit()
            try:
                raw = self._session.request(
                    request.method,
                    request.url,
                    params=params,
                    json=json_body,
                    headers={**dict(request.headers), **self._secret_headers} or None,
                    timeout=(self.policy.connect_timeout, self.policy.read_timeout),
                    allow_redirects=False,
                )
                content = raw.content
            except requests.RequestException as exc:  # timeouts, resets, truncated bodies
                last_problem = redact(f"{type(exc).__name__}: {exc}", self._secrets)
                retry_after = None
            else:
                response = Response(raw.status_code, content, request.public_url, dict(raw.headers))
                if raw.status_code not in RETRY_STATUSES:
                    return response
                if attempt == self.policy.max_attempts:
                    return response  # the client turns the last status into a clear error
                last_problem = f"HTTP {raw.status_code}"
                retry_after = retry_after_seconds(response.header("Retry-After"))
            if attempt < self.policy.max_attempts:
                delay = self._backoff(attempt, retry_after)
                log.warning(
                    "%s on %s (attempt %d of %d); retrying in %.1fs",
                    last_problem, request.public_url, attempt, self.policy.max_attempts, delay,
                )
                self._sleep(delay)
        raise PublisherUnavailable(
            f"no usable answer after {self.policy.max_attempts} attempts; last problem: {last_problem}. "
            "The publisher may be down or slow: the next scheduled run will try again",
            url=request.public_url,
        )


class ReleaseArchive:
    """A folder of recorded responses with an index keyed by `Request.archive_key`.

    The sample generator writes one; `ReplayTransport` answers from one. A request the archive does not hold is
    answered 204 No Content, as the Census API does for a month it has not published.
    """

    INDEX = "index.json"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._index: dict[str, dict] | None = None

    @property
    def index(self) -> dict[str, dict]:
        if self._index is None:
            path = self.root / self.INDEX
            self._index = json.loads(path.read_text()) if path.exists() else {}
        return self._index

    def put(self, request: Request, relpath: str, body: bytes, *, status: int = 200,
            content_type: str = "application/json;charset=utf-8", synthetic: bool = False,
            as_of: str | None = None) -> None:
        """File an answer. With `as_of` (YYYY-MM), it is one snapshot of a request whose answer changes over
        time (BLS gives the same request a newer answer each month): replay picks the snapshot in force."""
        target = self.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        entry = {"path": relpath, "status": status, "content_type": content_type, "synthetic": synthetic}
        if as_of is None:
            self.index[request.archive_key] = entry
        else:
            self.index.setdefault(request.archive_key, {"snapshots": {}})["snapshots"][as_of] = entry

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / (self.INDEX + ".tmp")
        tmp.write_text(json.dumps(self.index, indent=0, sort_keys=True))
        tmp.replace(self.root / self.INDEX)

    def get(self, request: Request, as_of: str | None = None) -> Response:
        """The answer filed for the request (as it stood at `as_of`, for snapshots); 204 if there is none."""
        entry = self.index.get(request.archive_key)
        if entry is not None and "snapshots" in entry:
            dates = sorted(d for d in entry["snapshots"] if as_of is None or d <= as_of)
            entry = entry["snapshots"][dates[-1]] if dates else None
        if entry is None:
            return Response(204, b"", request.public_url, {})
        body = (self.root / entry["path"]).read_bytes()
        headers = {"Content-Type": entry["content_type"]}
        if entry.get("synthetic"):
            headers[SYNTHETIC_HEADER] = "true"
        return Response(entry["status"], body, request.public_url, headers)


class ReplayTransport:
    """Answers requests from a `ReleaseArchive` instead of the network, as the publisher answered when the
    release being fetched came out (`as_of`, set by the client)."""

    as_of: str | None = None

    def __init__(self, archive_dir: Path) -> None:
        if not (Path(archive_dir) / ReleaseArchive.INDEX).exists():
            raise ConfigurationError(
                f"no release archive at {archive_dir} (no {ReleaseArchive.INDEX}). "
                "Run `tradewatch sample` to write the sample archive, or set TRADEWATCH_ARCHIVE_DIR"
            )
        self.archive = ReleaseArchive(archive_dir)

    def send(self, request: Request) -> Response:
        return self.archive.get(request, self.as_of)
