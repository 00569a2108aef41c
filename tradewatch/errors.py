"""Exceptions that say what went wrong and what to do about it.

Every message names the release (dataset and period) and the URL without its key where those are known.
"""

from __future__ import annotations


class TradewatchError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigurationError(TradewatchError):
    """A setting is missing or malformed."""


class SourceError(TradewatchError):
    """A publisher's answer could not be used. `url` never carries an API key."""

    outcome = "broken"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        self.url = url
        self.status = status
        where = f" [{url}]" if url else ""
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{message}{code}{where}")


class NotYetPublished(SourceError):
    """The publisher has not released this period yet (Census answers 204). Normal before the release day."""

    outcome = "not_published"


class BrokenResponse(SourceError):
    """The publisher answered, but not with the data asked for (HTML with 200, plain text, truncation)."""

    outcome = "broken"


class PageLayoutChanged(BrokenResponse):
    """A publisher's page (an index, a release check) no longer has the layout the parser reads: never taken for
    "not published yet". The task fails loudly, and alerts, until the parser is fixed."""

    outcome = "layout_changed"


class RequestRejected(SourceError):
    """The publisher refused the request itself (HTTP 400): a variable or predicate is wrong."""

    outcome = "rejected"


class KeyRejected(SourceError):
    """The API key is missing, invalid or not activated."""

    outcome = "key_invalid"


class GeoBlocked(SourceError):
    """The publisher refuses requests from this network (HTTP 412). Retrying does not help."""

    outcome = "geo_blocked"


class PublisherUnavailable(SourceError):
    """The publisher kept failing (5xx, 429, timeouts) after every retry."""

    outcome = "unavailable"


class ReleaseFormatError(TradewatchError):
    """A landed release does not have the shape its parser expects (schema drift, bad values)."""


class QualityGateFailed(TradewatchError):
    """A release failed its Great Expectations suite and was quarantined."""

    def __init__(self, message: str, *, failed_release_ids: list[str]) -> None:
        self.failed_release_ids = failed_release_ids
        super().__init__(message)
