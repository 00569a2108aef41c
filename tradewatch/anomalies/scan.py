"""The scan: every series (or those a filter selects) through detection, event attribution, the revision check and
the contributions, written to the detector's tables in one transaction. dbt then builds marts.anomalies from them
(tradewatch.transform.build_anomalies)."""

from __future__ import annotations

import logging

import duckdb

from tradewatch.anomalies import findings
from tradewatch.anomalies.contributions import contributions
from tradewatch.anomalies.detection import SEVERITIES, Anomaly, Rules, detect, release_shrinks, vanished
from tradewatch.anomalies.events import attach_events, load_events
from tradewatch.anomalies.series import SeriesFilter, load_series
from tradewatch.anomalies.stability import check_revision, load_first_published

log = logging.getLogger("tradewatch.anomalies")


def rules_from(settings) -> Rules:
    """The detection thresholds from settings.anomalies (the environment)."""
    a = settings.anomalies
    return Rules(z_threshold=a.z_threshold, materiality_pct=a.materiality_pct,
                 event_window_months=a.event_window_months, yoy_total_pct=a.yoy_total_pct,
                 low_base_usd=a.low_base_usd)


def scan_anomalies(con: duckdb.DuckDBPyConnection, rules: Rules, select: SeriesFilter | None = None) -> list[Anomaly]:
    """Detect over the series in the marts and replace the detector's findings in one transaction.

    `select` limits the scan to some series (their findings are replaced, the others' kept); None scans all."""
    every = load_series(con)
    chosen = every if select is None else [s for s in every if select(s)]
    events, basket_codes = load_events(con)
    first_published = load_first_published(con)
    found: list[Anomaly] = []
    for series in chosen:
        found.extend(detect(series, rules))
    ids = {s.series_id for s in chosen}
    found.extend(a for a in vanished(every, rules) if a.series.series_id in ids)
    if select is None:
        found.extend(release_shrinks(con))
    found = [check_revision(attach_events(a, events, basket_codes, rules.event_window_months), first_published)
             for a in found]
    found.sort(key=lambda a: (a.period, -SEVERITIES.index(a.severity), a.series.series_id))
    parts = contributions(con, found)
    findings.write(con, found, parts, None if select is None else ids)
    log.info("anomaly scan: %d series, %d anomalies (%d critical, %d warning, %d info), %d contributions",
             len(chosen), len(found), *(sum(a.severity == s for a in found) for s in ("critical", "warning", "info")),
             len(parts))
    return found
