"""The PostgreSQL serving database as the settings name it: how to connect as its owner, with every error reported
on one line and every secret masked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tradewatch import dburl
from tradewatch.errors import TradewatchError
from tradewatch.redact import redact
from tradewatch.settings import Secret, ServingSettings, Settings


@dataclass(frozen=True)
class Target:
    url: Secret  # a postgresql:// URL or libpq key=value string of the owner (it creates schemas and roles)
    serving: ServingSettings

    def connect(self, **options):
        import psycopg

        try:
            return psycopg.connect(self.url.reveal() or "", connect_timeout=10, **options)
        except psycopg.Error as exc:
            raise TradewatchError("cannot connect to the serving database (TRADEWATCH_SERVING_URL): "
                                  + self.clean(exc)) from None

    def clean(self, exc: BaseException) -> str:
        """The exception's message on one line, every secret masked."""
        return redact(" ".join(str(exc).split()), self.secrets)

    @property
    def secrets(self) -> list[str]:
        return dburl.secrets(self.url.reveal()) + [v for v in (self.serving.reader_password.reveal(),) if v]

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Any error from the server becomes one line that names what was being done, with secrets masked."""
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise TradewatchError(f"{doing}: {self.clean(exc)}") from None


def target(settings: Settings) -> Target | None:
    """The configured serving database (TRADEWATCH_SERVING_URL or the Airflow connection `tradewatch_serving`, as
    the settings resolved it), or None."""
    return Target(settings.serving.url, settings.serving) if settings.serving.url else None
