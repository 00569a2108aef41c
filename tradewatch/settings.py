"""The one settings factory. Nothing reads the environment anywhere else.

Call `get_settings()` inside a task or command, never at import time. Settings hold only what a user sets: each
publisher's defaults (base URL, key variable, pages, release calendar) live in its module's `PUBLISHER` and are read
from the registry `tradewatch.sources.PUBLISHERS` when the settings are built.

Connections and secrets are resolved here, once. Inside an Airflow task, `get_settings(connections=...)` (the DAG
passes tradewatch.airflow_connections.airflow_connection) also reads the Airflow connections, each replacing what the
environment sets for the same thing: `tradewatch_serving` (host, port, schema = database, login, password) the
serving database's URL; `tradewatch_slack` and `tradewatch_webhook` (a URL in password or host; the webhook's token
in password) and `tradewatch_smtp` (host, port, login, password; extra `from`, `to`, `starttls`) the alert channels,
unless TRADEWATCH_ALERT_AIRFLOW_CONNECTIONS=false. Everything downstream sees only the settings, and
`Settings.secrets` holds every secret value, wherever it came from.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewatch import dburl
from tradewatch.errors import ConfigurationError
from tradewatch.locations import VARIABLES, Shipped, shipped_dir
from tradewatch.periods import parse_month

if TYPE_CHECKING:  # the registry loads DuckDB: get_settings imports it when called, never at import time
    from tradewatch.http import HttpPolicy
    from tradewatch.sources.base import Publisher


#: conn_id -> the connection as a dict (host, port, login, password, schema, extra), or None when there is none
ConnectionLookup = Callable[[str], "dict[str, Any] | None"]
SERVING_CONNECTION = "tradewatch_serving"
ALERT_CONNECTIONS = {"slack": "tradewatch_slack", "webhook": "tradewatch_webhook", "email": "tradewatch_smtp"}


class Secret:
    """A string that never shows itself in repr(), str() or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value or None

    def reveal(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return self._value is not None

    def __repr__(self) -> str:
        return "Secret(***)" if self._value else "Secret(None)"

    __str__ = __repr__


@dataclass(frozen=True)
class SourceSettings:
    """One publisher as this deployment reaches it (TRADEWATCH_<NAME>_*, and its key's variable)."""

    base_url: str
    api_key: Secret
    lag_months: int  # months between a run's logical date and the month it fetches
    release_day: int  # day of the month by which a release is due (the month is the publisher's calendar)
    pages: Mapping[str, str] = field(default_factory=dict)  # the publisher's named pages (GACC's indexes) -> URL


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go. Every channel that is configured is used; the log channel is on unless switched off."""

    slack_webhook_url: Secret = Secret(None)
    webhook_url: Secret = Secret(None)
    webhook_token: Secret = Secret(None)  # sent as "Authorization: Bearer ..." to the generic webhook
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: Secret = Secret(None)
    smtp_starttls: bool = True
    email_from: str = "tradewatch@localhost"
    email_to: tuple[str, ...] = ()
    log: bool = True
    min_severity: str = "warning"
    lookback_months: int = 3  # anomalies older than this (behind their series' latest month) are stored, not sent
    timeout_seconds: float = 10.0
    use_airflow_connections: bool = True

    @property
    def secrets(self) -> list[str]:
        return [v for s in (self.slack_webhook_url, self.webhook_url, self.webhook_token, self.smtp_password)
                if (v := s.reveal())]


@dataclass(frozen=True)
class AnomalySettings:
    z_threshold: float = 3.5
    materiality_pct: float = 1.0
    event_window_months: int = 6
    yoy_total_pct: float = 20.0
    low_base_usd: float = 5e6  # a year-earlier level under this (US$ a month) gets no YoY headline


@dataclass(frozen=True)
class ServingSettings:
    """Where readers get the marts: files under `directory`, and a PostgreSQL database when `url` is set."""

    directory: Path
    url: Secret = Secret(None)  # postgresql://owner:password@host:port/dbname, checked as libpq reads it
    reader_role: str = "tradewatch_reader"  # the shared read-only login
    reader_password: Secret = Secret(None)
    reader_group: str = "tradewatch_readers"  # NOLOGIN role holding the read grants; every reader login is a member
    keep_publications: int = 3
    # publishing: wait this long for readers to release the live marts, then cut the reader sessions that hold them
    # (cancel a running statement, terminate an idle transaction); give up after swap_timeout_seconds
    lock_wait_seconds: float = 10.0
    swap_timeout_seconds: float = 60.0
    # set on every reader login by `serving init` (0 = off); a reader can still SET them in its own session
    reader_idle_timeout_seconds: int = 300  # idle_in_transaction_session_timeout
    reader_statement_timeout_seconds: int = 600  # statement_timeout

    @property
    def secrets(self) -> list[str]:
        return dburl.secrets(self.url.reveal()) + [v for v in (self.reader_password.reveal(),) if v]


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    duckdb_path: Path
    landing_dir: Path
    archive_dir: Path
    validation_dir: Path
    source_mode: str  # "replay" (the release archive) or "live" (the publishers' APIs)
    sources: dict[str, SourceSettings]
    start_month: date
    http: HttpPolicy
    serving: ServingSettings
    release_poll_hours: float = 6.0  # while a release is due but not out: look again this often
    dbt_memory_limit: str = "1GB"  # DuckDB's memory limit inside dbt (it spills to disk beyond it)
    publish_memory_limit: str = "1GB"  # DuckDB's memory limit while publishing (the snapshot and the Parquet files)
    diversion_base_year: int = 2017  # the rerouting monitor's pre-war base year (marts.trade_diversion_monthly)
    alerts: AlertSettings = AlertSettings()
    anomalies: AnomalySettings = AnomalySettings()
    # the dbt project and the Airflow DAGs folder: the installed package's (tradewatch.locations) unless set
    dbt_project_dir: Path = field(default_factory=lambda: shipped_dir("dbt_project"))
    dags_dir: Path = field(default_factory=lambda: shipped_dir("dags"))

    @property
    def secrets(self) -> list[str]:
        """Every secret value, for redaction."""
        keys = [key for src in self.sources.values() if (key := src.api_key.reveal())]
        return keys + self.alerts.secrets + self.serving.secrets


def _memory_size(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or default).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw, re.IGNORECASE):
        raise ConfigurationError(f"{name}={raw!r} is not a memory size; write it like 1GB or 1500MB, or unset it")
    return raw


def _base_year(env: Mapping[str, str]) -> int:
    year = _int(env, "TRADEWATCH_DIVERSION_BASE_YEAR", 2017)
    if not 1990 <= year <= 2100:
        raise ConfigurationError(f"TRADEWATCH_DIVERSION_BASE_YEAR={year}: use a year the warehouse holds, such as "
                                 "2017 (the last year before the trade war)")
    return year


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number; set it to one, or unset it") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number; set it to one, or unset it") from None


def _source(env: Mapping[str, str], publisher: Publisher) -> SourceSettings:
    """A publisher's settings: its defaults, overridden by TRADEWATCH_<NAME>_BASE_URL, _LAG_MONTHS, _RELEASE_DAY,
    _<PAGE>_URL for each of its pages, and its key from the key's variable."""
    prefix = f"TRADEWATCH_{publisher.name.upper()}"
    lag = _int(env, f"{prefix}_LAG_MONTHS", 2)
    if not 0 <= lag <= 12:
        raise ConfigurationError(f"{prefix}_LAG_MONTHS={lag}: use a number of months from 0 to 12")
    key = env.get(publisher.key.variable) if publisher.key is not None else None
    default_url = publisher.keyed_base_url if key and publisher.keyed_base_url else publisher.base_url
    base_url = (env.get(f"{prefix}_BASE_URL") or default_url).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{prefix}_BASE_URL={base_url!r} must start with https:// (or http://)")
    day = _int(env, f"{prefix}_RELEASE_DAY", publisher.calendar.day)
    if not 1 <= day <= 28:
        raise ConfigurationError(f"{prefix}_RELEASE_DAY={day}: use a day of the month from 1 to 28")
    pages = {}
    for page, default in publisher.page_urls(base_url).items():  # under the base URL unless set
        variable = f"{prefix}_{page.upper()}_URL"
        url = env.get(variable) or default
        fields = _template_fields(default)
        if not url.startswith(("http://", "https://")) or _template_fields(url) != fields:
            where = "".join(f" with {{{f}}} where the {f} goes" for f in sorted(fields))
            raise ConfigurationError(f"{variable}={url!r}: use an http(s) URL{where}, like {default}")
        pages[page] = url
    return SourceSettings(base_url=base_url, api_key=Secret(key), lag_months=lag, release_day=day, pages=pages)


def _template_fields(url: str) -> set[str]:
    """The {name} fields of a URL template ("…/preliminary{year}.html" -> {"year"})."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(url) if name is not None}
    except ValueError:  # an unbalanced brace
        return {"?"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={raw!r}: use true or false")


def _alerts(env: Mapping[str, str]) -> AlertSettings:
    severity = (env.get("TRADEWATCH_ALERT_MIN_SEVERITY") or "warning").strip().lower()
    if severity not in {"info", "warning", "critical"}:
        raise ConfigurationError(f"TRADEWATCH_ALERT_MIN_SEVERITY={severity!r}: use info, warning or critical")
    for name in ("TRADEWATCH_ALERT_SLACK_WEBHOOK_URL", "TRADEWATCH_ALERT_WEBHOOK_URL"):
        if (url := env.get(name)) and not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"{name} must be an https:// URL (the value is not shown: it is a secret)")
    recipients = tuple(a.strip() for a in (env.get("TRADEWATCH_ALERT_EMAIL_TO") or "").split(",") if a.strip())
    if bad := [a for a in recipients if "@" not in a]:
        raise ConfigurationError(f"TRADEWATCH_ALERT_EMAIL_TO: {bad[0]!r} is not an e-mail address")
    port = _int(env, "TRADEWATCH_SMTP_PORT", 587)
    return AlertSettings(
        slack_webhook_url=Secret(env.get("TRADEWATCH_ALERT_SLACK_WEBHOOK_URL")),
        webhook_url=Secret(env.get("TRADEWATCH_ALERT_WEBHOOK_URL")),
        webhook_token=Secret(env.get("TRADEWATCH_ALERT_WEBHOOK_TOKEN")),
        smtp_host=env.get("TRADEWATCH_SMTP_HOST") or None,
        smtp_port=port,
        smtp_user=env.get("TRADEWATCH_SMTP_USER") or None,
        smtp_password=Secret(env.get("TRADEWATCH_SMTP_PASSWORD")),
        smtp_starttls=_bool(env, "TRADEWATCH_SMTP_STARTTLS", port == 587),
        email_from=env.get("TRADEWATCH_ALERT_EMAIL_FROM") or "tradewatch@localhost",
        email_to=recipients,
        log=_bool(env, "TRADEWATCH_ALERT_LOG", True),
        min_severity=severity,
        lookback_months=_int(env, "TRADEWATCH_ALERT_LOOKBACK_MONTHS", 3),
        timeout_seconds=_float(env, "TRADEWATCH_ALERT_TIMEOUT_SECONDS", 10.0),
        use_airflow_connections=_bool(env, "TRADEWATCH_ALERT_AIRFLOW_CONNECTIONS", True),
    )


def _url_of(conn: Mapping[str, Any]) -> str | None:
    """The URL a connection holds: a full URL in password (Slack's convention) or in host."""
    for candidate in (conn.get("password"), conn.get("host")):
        if candidate and str(candidate).startswith(("https://", "http://")):
            return str(candidate)
    return None


def _alert_connections(alerts: AlertSettings, connections: ConnectionLookup) -> AlertSettings:
    """The Airflow connections that exist replace the environment's channel of the same kind."""
    if (conn := connections(ALERT_CONNECTIONS["slack"])) and (url := _url_of(conn)):
        alerts = replace(alerts, slack_webhook_url=Secret(url))
    if (conn := connections(ALERT_CONNECTIONS["webhook"])) and (url := _url_of(conn)):
        token = conn.get("password") if conn.get("password") != url else None
        alerts = replace(alerts, webhook_url=Secret(url), webhook_token=Secret(token))
    if (conn := connections(ALERT_CONNECTIONS["email"])) and conn.get("host"):
        extra = conn.get("extra") or {}
        recipients = extra.get("to") or ",".join(alerts.email_to)
        recipients = tuple(r.strip() for r in (recipients.split(",") if isinstance(recipients, str) else recipients)
                           if r.strip())
        port = int(conn.get("port") or alerts.smtp_port)
        alerts = replace(alerts, smtp_host=conn["host"], smtp_port=port, smtp_user=conn.get("login"),
                         smtp_password=Secret(conn.get("password")), email_to=recipients,
                         email_from=extra.get("from") or alerts.email_from,
                         smtp_starttls=bool(extra.get("starttls", port == 587)))
    return alerts


def _anomalies(env: Mapping[str, str]) -> AnomalySettings:
    settings = AnomalySettings(
        z_threshold=_float(env, "TRADEWATCH_ANOMALY_Z_THRESHOLD", 3.5),
        materiality_pct=_float(env, "TRADEWATCH_ANOMALY_MATERIALITY_PCT", 1.0),
        event_window_months=_int(env, "TRADEWATCH_ANOMALY_EVENT_WINDOW_MONTHS", 6),
        yoy_total_pct=_float(env, "TRADEWATCH_ANOMALY_YOY_PCT", 20.0),
        low_base_usd=_float(env, "TRADEWATCH_ANOMALY_LOW_BASE_USD", 5e6),
    )
    if settings.z_threshold <= 0 or settings.yoy_total_pct <= 0 or not 0 <= settings.materiality_pct < 100 \
            or settings.low_base_usd < 0:
        raise ConfigurationError("TRADEWATCH_ANOMALY_Z_THRESHOLD and _YOY_PCT must be positive, "
                                 "TRADEWATCH_ANOMALY_MATERIALITY_PCT a share from 0 to 100 and "
                                 "TRADEWATCH_ANOMALY_LOW_BASE_USD a US$ amount (0 switches the guard off)")
    return settings


ROLE_NAME_RULE = "a role name of lower-case letters, digits and underscores, not starting with pg_"


def is_role_name(name: str) -> bool:
    """A PostgreSQL role name tradewatch will create or accept (no quoting surprises, no reserved pg_ prefix)."""
    return bool(re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name)) and not name.startswith("pg_")


def _role_name(env: Mapping[str, str], name: str, default: str) -> str:
    role = env.get(name) or default
    if not is_role_name(role):
        raise ConfigurationError(f"{name}={role!r}: {ROLE_NAME_RULE}")
    return role


def _serving_connection(conn: Mapping[str, Any]) -> str:
    """The Airflow connection `tradewatch_serving` as a libpq key=value string (quoting what needs it)."""
    from psycopg.conninfo import make_conninfo

    params = {"host": conn["host"], "port": str(conn.get("port") or 5432), "dbname": conn.get("schema"),
              "user": conn.get("login"), "password": conn.get("password")}
    return make_conninfo("", **{k: v for k, v in params.items() if v})


def _serving(env: Mapping[str, str], data_dir: Path, connections: ConnectionLookup | None) -> ServingSettings:
    url = env.get("TRADEWATCH_SERVING_URL") or None
    if url:
        dburl.check(url, "TRADEWATCH_SERVING_URL")
    if connections is not None and (conn := connections(SERVING_CONNECTION)) and conn.get("host"):
        url = _serving_connection(conn)
    role = _role_name(env, "TRADEWATCH_SERVING_READER", "tradewatch_reader")
    group = _role_name(env, "TRADEWATCH_SERVING_READER_GROUP", "tradewatch_readers")
    if group == role:
        raise ConfigurationError(f"TRADEWATCH_SERVING_READER_GROUP={group!r} is the reader login's own name: the "
                                 "group is a separate role (default tradewatch_readers)")
    keep = _int(env, "TRADEWATCH_SERVING_KEEP", 3)
    lock_wait = _float(env, "TRADEWATCH_SERVING_LOCK_WAIT_SECONDS", 10.0)
    swap_timeout = _float(env, "TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS", 60.0)
    if not 0 <= lock_wait < swap_timeout:
        raise ConfigurationError("TRADEWATCH_SERVING_LOCK_WAIT_SECONDS must be 0 or more and less than "
                                 f"TRADEWATCH_SERVING_SWAP_TIMEOUT_SECONDS (now {lock_wait:g} and {swap_timeout:g})")
    idle = _int(env, "TRADEWATCH_SERVING_READER_IDLE_TIMEOUT_SECONDS", 300)
    statement = _int(env, "TRADEWATCH_SERVING_READER_STATEMENT_TIMEOUT_SECONDS", 600)
    if idle < 0 or statement < 0:
        raise ConfigurationError("TRADEWATCH_SERVING_READER_IDLE_TIMEOUT_SECONDS and "
                                 "TRADEWATCH_SERVING_READER_STATEMENT_TIMEOUT_SECONDS: a number of seconds, 0 for none")
    return ServingSettings(
        directory=Path(env.get("TRADEWATCH_SERVING_DIR") or data_dir / "serving").resolve(),
        url=Secret(url), reader_role=role, reader_password=Secret(env.get("TRADEWATCH_SERVING_READER_PASSWORD")),
        reader_group=group, keep_publications=max(keep, 2), lock_wait_seconds=lock_wait,
        swap_timeout_seconds=swap_timeout, reader_idle_timeout_seconds=idle,
        reader_statement_timeout_seconds=statement)


def _shipped(env: Mapping[str, str], name: Shipped, marker: str) -> Path:
    """The dbt project or the DAGs folder: TRADEWATCH_DBT_PROJECT_DIR / TRADEWATCH_DAGS_DIR, else the package's."""
    variable = VARIABLES[name]
    if not (raw := env.get(variable)):
        return shipped_dir(name)
    path = Path(raw).expanduser().resolve()
    if not next(path.glob(marker), None):
        raise ConfigurationError(f"{variable}={raw!r} has no {marker}: point it at a copy of tradewatch's {name} "
                                 "folder, or unset it to use the installed package's")
    return path


DEFAULT_REFRESH_CRON = "0 6 10 * *"  # the 10th, 06:00 UTC: after Census (~day 35) released the month two back


def refresh_cron(env: Mapping[str, str] | None = None) -> str | None:
    """The monthly refresh's schedule (TRADEWATCH_REFRESH_CRON; "none": only runs triggered by hand or by the API).
    Read when the DAG file is parsed: no I/O."""
    env = os.environ if env is None else env
    cron = (env.get("TRADEWATCH_REFRESH_CRON") or DEFAULT_REFRESH_CRON).strip()
    if cron.lower() == "none":
        return None
    if len(cron.split()) != 5 or not re.fullmatch(r"[0-9*/,\- ]+", cron):
        raise ConfigurationError(f"TRADEWATCH_REFRESH_CRON={cron!r}: use a five-field cron expression such as "
                                 f"{DEFAULT_REFRESH_CRON!r}")
    return cron


def get_settings(env: Mapping[str, str] | None = None, connections: ConnectionLookup | None = None) -> Settings:
    """Build the settings from the environment (or from `env`, in tests) and, given a lookup, from the Airflow
    connections (see the module)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("TRADEWATCH_DATA_DIR") or Path.cwd() / "data").resolve()
    mode = (env.get("TRADEWATCH_SOURCE_MODE") or "replay").strip().lower()
    if mode not in {"replay", "live"}:
        raise ConfigurationError(f"TRADEWATCH_SOURCE_MODE={mode!r}: use 'replay' (the sample archive) or 'live'")
    try:
        start_month = parse_month(env.get("TRADEWATCH_START_MONTH") or "2017-01")
    except ValueError as exc:
        raise ConfigurationError(f"TRADEWATCH_START_MONTH: {exc}") from None
    from tradewatch.http import HttpPolicy
    from tradewatch.sources import PUBLISHERS

    alerts = _alerts(env)
    if connections is not None and alerts.use_airflow_connections:
        alerts = _alert_connections(alerts, connections)
    sources = {name: _source(env, publisher) for name, publisher in PUBLISHERS.items()}
    http = HttpPolicy(
        connect_timeout=_float(env, "TRADEWATCH_HTTP_CONNECT_TIMEOUT", 10.0),
        read_timeout=_float(env, "TRADEWATCH_HTTP_READ_TIMEOUT", 120.0),
        max_attempts=max(1, _int(env, "TRADEWATCH_HTTP_MAX_ATTEMPTS", 5)),
        backoff_seconds=_float(env, "TRADEWATCH_HTTP_BACKOFF_SECONDS", 2.0),
        max_backoff_seconds=_float(env, "TRADEWATCH_HTTP_MAX_BACKOFF_SECONDS", 120.0),
        min_interval_seconds=_float(env, "TRADEWATCH_HTTP_MIN_INTERVAL_SECONDS", 0.5),
    )
    return Settings(
        data_dir=data_dir,
        duckdb_path=Path(env.get("TRADEWATCH_DUCKDB_PATH") or data_dir / "warehouse.duckdb").resolve(),
        landing_dir=data_dir / "landing",
        archive_dir=Path(env.get("TRADEWATCH_ARCHIVE_DIR") or data_dir / "sample_archive").resolve(),
        validation_dir=data_dir / "validation",
        source_mode=mode,
        sources=sources,
        start_month=start_month,
        http=http,
        serving=_serving(env, data_dir, connections),
        release_poll_hours=_float(env, "TRADEWATCH_RELEASE_POLL_HOURS", 6.0),
        dbt_memory_limit=_memory_size(env, "TRADEWATCH_DBT_MEMORY_LIMIT", "1GB"),
        publish_memory_limit=_memory_size(env, "TRADEWATCH_PUBLISH_MEMORY_LIMIT", "1GB"),
        diversion_base_year=_base_year(env),
        alerts=alerts,
        anomalies=_anomalies(env),
        dbt_project_dir=_shipped(env, "dbt_project", "dbt_project.yml"),
        dags_dir=_shipped(env, "dags", "*.py"),
    )
