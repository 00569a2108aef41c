"""Keep secrets out of URLs, messages and logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "registrationkey", "subscription-key", "token"})


def strip_secret_params(url: str) -> str:
    """The URL without any query parameter that carries a key."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each secret in text by '***' (the longest first, so a secret that contains
    another, such as a URL and its password, is masked whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(?i)([?&](?:key|api_key|registrationkey)=)[^&\s'\"]+", r"\1***", text)


class RedactingFilter(logging.Filter):
    """Masks secrets in the records of loggers we do not own (urllib3 logs each request URL, key included, at
    DEBUG). Secrets are registered by the transports that send them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactingFilter()
THIRD_PARTY_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests")


def guard_third_party_logs(secrets: Iterable[str]) -> None:
    """Register `secrets` and make sure the HTTP libraries' loggers pass through the redacting filter."""
    _FILTER.secrets.update(s for s in secrets if s)
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
