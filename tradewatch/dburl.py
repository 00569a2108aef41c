"""PostgreSQL connection URLs, read the way libpq reads them, and the secrets inside them.

libpq (which psycopg uses) ends the user name and password of a URL at the FIRST '@', and finds no user name or
password at all when a '/' comes before any '@'; a '%' that does not start a percent-encoded byte, or a space, is an
error whose message quotes the offending token. Python's urlsplit splits at the LAST '@'. A password holding '@',
'/', '%' or a space, written unencoded, is therefore read differently by the two, and masking the password found by
the one does not mask what the other prints (libpq would show `ss@host` as the host of `user:p@ss@host`).

So a URL is checked once, when the settings are read: libpq must read it, and it must read the same user name and
password a person reads (everything before the last '@'). Anything else is refused with a message that never shows
the value. The secrets masked in messages are the whole URL, the password as libpq reads it, and the password as a
person reads it (raw and decoded), longest first.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from tradewatch.errors import ConfigurationError

#: libpq options that hold secrets
SECRET_OPTIONS = ("password", "sslpassword")
SCHEMES = ("postgresql://", "postgres://")
ENCODE_HINT = ("percent-encode these characters in the user name and password: % as %25, @ as %40, / as %2F, "
               ": in a user name as %3A, a space as %20")


def libpq_parse(conninfo: str) -> dict[str, str]:
    """libpq's own reading of a URL or key=value string (psycopg.conninfo.conninfo_to_dict).

    Raises ValueError with libpq's message, which may quote part of the password: mask it before showing it."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    except psycopg.Error as exc:
        raise ValueError(" ".join(str(exc).split())) from None


def _as_written(url: str) -> tuple[str, str] | None:
    """(user, password) as a person reads the URL: everything before the last '@' (and before any '?'), split at
    the first ':' and percent-decoded; None without an '@'."""
    if "://" not in url:
        return None
    head = url.split("://", 1)[1].split("?", 1)[0]
    if "@" not in head:
        return None
    user, _, password = head[: head.rindex("@")].partition(":")
    return user, password


def secrets(conninfo: str | None) -> list[str]:
    """Every string that must be masked where a message might show this connection string, longest first."""
    if not conninfo:
        return []
    found = {conninfo}
    try:
        parsed = libpq_parse(conninfo)
        found.update(parsed.get(option, "") for option in SECRET_OPTIONS)
    except ValueError:
        pass
    if written := _as_written(conninfo):
        found.update((written[1], unquote(written[1])))
    return sorted((s for s in found if s), key=len, reverse=True)


def check(url: str, variable: str) -> dict[str, str]:
    """libpq's reading of `url`, after making sure it is a PostgreSQL URL that libpq reads as a person would.

    Raises ConfigurationError (naming `variable`, never showing the value) otherwise."""
    from tradewatch.redact import redact

    if not url.startswith(SCHEMES):
        raise ConfigurationError(f"{variable} must be a postgresql://user:password@host:port/dbname URL (the value "
                                 "is not shown: it holds a password)")
    try:
        parsed = libpq_parse(url)
    except ValueError as exc:  # libpq quotes the token it could not read, which may be a piece of the password
        reason = re.sub(r'"[^"]*"', '"..."', redact(str(exc), secrets(url)))
        raise ConfigurationError(f"{variable} cannot be read as a PostgreSQL URL ({reason}); {ENCODE_HINT} (the "
                                 "value is not shown: it holds a password)") from None
    written = _as_written(url)
    if written is not None:
        user, password = (unquote(part) or None for part in written)
        if (user, password) != (parsed.get("user"), parsed.get("password")):
            raise ConfigurationError(f"{variable}: libpq would read a different user name or password than the one "
                                     f"written (an '@', '/' or ':' in them is taken as the end of that part); "
                                     f"{ENCODE_HINT} (the value is not shown: it holds a password)")
    return parsed
