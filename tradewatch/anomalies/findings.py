"""The detector's raw findings: two tables in schema `detector` that dbt reads as a source and turns into the public
mart `marts.anomalies` (typed, documented, tested like every other mart).

A scan replaces them in one transaction, so dbt never reads half a scan, and records itself in a third table,
`detector.scans` (not a dbt source): the build it saw, from which the next refresh's scan judges only what changed.
`bootstrap` creates them empty with the warehouse, so a `dbt build` by hand works before the first scan.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from tradewatch.anomalies.contributions import Contribution
from tradewatch.anomalies.detection import Anomaly
from tradewatch.sql import insert_rows

SCHEMA = "detector"
FINDINGS_COLUMNS = """
    anomaly_id VARCHAR NOT NULL PRIMARY KEY, series_id VARCHAR NOT NULL, domain VARCHAR NOT NULL,
    series_label VARCHAR NOT NULL, reporter_iso3 VARCHAR, partner_iso3 VARCHAR, flow VARCHAR, code VARCHAR,
    source VARCHAR, direction VARCHAR, period_month DATE NOT NULL, months_in_period INTEGER NOT NULL,
    period_label VARCHAR NOT NULL, category VARCHAR NOT NULL, method VARCHAR NOT NULL, unit VARCHAR NOT NULL,
    observed DOUBLE, expected DOUBLE, prior_value DOUBLE, change_pct DOUBLE, change_usd DOUBLE, score DOUBLE,
    threshold_pct DOUBLE, confidence VARCHAR NOT NULL, severity VARCHAR NOT NULL, is_material BOOLEAN NOT NULL,
    share_of_bilateral_pct DOUBLE, consecutive_months INTEGER NOT NULL, largest_fall_since DATE, lowest_since DATE,
    history_start DATE, is_low_base BOOLEAN NOT NULL, held_previous_period BOOLEAN, held_before_revision BOOLEAN,
    likely_cause VARCHAR, likely_cause_event_id VARCHAR, events VARCHAR, series_last_period DATE NOT NULL,
    is_synthetic BOOLEAN NOT NULL, detected_at TIMESTAMP NOT NULL"""
CONTRIBUTIONS_COLUMNS = """
    anomaly_id VARCHAR NOT NULL, level VARCHAR NOT NULL, code VARCHAR NOT NULL, parent_code VARCHAR,
    label VARCHAR NOT NULL, value_usd DOUBLE, value_year_ago_usd DOUBLE, change_usd DOUBLE NOT NULL,
    share_pct DOUBLE, rank INTEGER NOT NULL"""
TABLES = {"anomaly_findings": FINDINGS_COLUMNS, "anomaly_contributions": CONTRIBUTIONS_COLUMNS}
#: One row per scan that left the findings as a full scan would (full, or incremental): the next refresh's scan
#: judges only what the builds started after `last_build` changed (tradewatch.anomalies.scan.changed_months).
SCANS_COLUMNS = """
    scanned_at TIMESTAMP NOT NULL, mode VARCHAR NOT NULL, last_build TIMESTAMP, fingerprint VARCHAR NOT NULL,
    months DATE[], series INTEGER NOT NULL, anomalies INTEGER NOT NULL"""


@dataclass(frozen=True)
class Replace:
    """Which findings a scan replaces: all (None), those of some series, or those of whole groups of series (the
    detector's `vanished` rule compares a series with its group) and the release checks."""

    series_ids: Collection[str] = ()
    groups: Collection[str] = ()  # group_key()s
    releases: bool = False


def group_key(domain: str, reporter: str | None, partner: str | None, flow: str | None) -> str:
    """The series a `vanished` finding compares (tradewatch.anomalies.detection.vanished), as one string."""
    return "|".join((domain, reporter or "", partner or "", flow or ""))


_GROUP_SQL = "domain || '|' || coalesce(reporter_iso3, '') || '|' || coalesce(partner_iso3, '') || '|' || " \
    "coalesce(flow, '')"


def bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """Create the detector's schema and tables if missing (empty): dbt's source exists before the first scan."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table, columns in {**TABLES, "scans": SCANS_COLUMNS}.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} ({columns})")


def write(con: duckdb.DuckDBPyConnection, found: Sequence[Anomaly], contributions: Sequence[Contribution],
          series_ids: Collection[str] | None = None, *, replace: Replace | None = None,
          scan: tuple | None = None) -> None:
    """Replace the findings in one transaction: all of them, or only those of `series_ids` or `replace` (a partial
    scan); `scan` (mode, last_build, fingerprint, months, series) is recorded with them when given."""
    if series_ids is not None:
        replace = Replace(series_ids=series_ids)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [_row(a, now) for a in found]
    parts = [(c.anomaly_id, c.level, c.code, c.parent_code, c.label, c.value, c.value_year_ago, c.change_usd,
              c.share_pct, c.rank) for c in contributions]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        if replace is None:
            for table, columns in TABLES.items():  # the current layout, whatever an earlier version left
                con.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
                con.execute(f"CREATE TABLE {SCHEMA}.{table} ({columns})")
        else:
            which = (f"list_contains(?, series_id) OR list_contains(?, {_GROUP_SQL})"
                     + (" OR domain = 'release'" if replace.releases else ""))
            args = [list(replace.series_ids), list(replace.groups)]
            con.execute(f"DELETE FROM {SCHEMA}.anomaly_contributions WHERE anomaly_id IN (SELECT anomaly_id FROM "
                        f"{SCHEMA}.anomaly_findings WHERE {which})", args)
            con.execute(f"DELETE FROM {SCHEMA}.anomaly_findings WHERE {which}", args)
        insert_rows(con, f"{SCHEMA}.anomaly_findings", rows)
        insert_rows(con, f"{SCHEMA}.anomaly_contributions", parts)
        if scan is not None:
            con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.scans ({SCANS_COLUMNS})")
            mode, last_build, fingerprint, months, series = scan
            con.execute(f"INSERT INTO {SCHEMA}.scans VALUES (?, ?, ?, ?, ?, ?, (SELECT count(*) FROM "
                        f"{SCHEMA}.anomaly_findings))", [now, mode, last_build, fingerprint, months, series])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def by_severity(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The findings as they stand (all series, whether this scan judged them or an earlier one), by severity."""
    return dict(con.execute(f"SELECT severity, count(*) FROM {SCHEMA}.anomaly_findings GROUP BY 1").fetchall())


def _row(a: Anomaly, now: datetime) -> tuple:
    s = a.series
    last = s.last_period or a.period
    return (a.anomaly_id, s.series_id, s.domain, s.label, s.reporter, s.partner, s.flow, s.code, s.source,
            s.direction, a.period, a.months, a.period_label, a.category, a.method, s.unit, a.observed, a.expected,
            a.prior, a.change_pct, a.change_value, a.score, a.threshold_pct, a.confidence, a.severity,
            a.is_material, a.share_pct, a.consecutive_months, a.largest_fall_since, a.lowest_since, a.history_start,
            a.is_low_base, a.held_previous_period, a.held_before_revision, a.likely_cause, a.likely_cause_event_id,
            a.events, max(last, a.period), s.is_synthetic, now)
