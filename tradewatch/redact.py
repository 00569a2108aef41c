"""Keep secrets out of URLs, messages and logs."""

from __future__ import annotations

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
    """Replace every occurrence of each secret in text by '***'."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(?i)([?&](?:key|api_key|registrationkey)=)[^&\s'\"]+", r"\1***", text)
