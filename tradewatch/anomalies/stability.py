"""Would the headline have held after the latest revision? The YoY change recomputed on the figures as first
published (marts.release_revisions: Census's bilateral totals, the BLS price series), against the same threshold.

The other half of stability, "would it have held a month earlier" (the previous period anomalous the same way), is
known while detecting (`Anomaly.held_previous_period`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import duckdb

from tradewatch.anomalies.detection import Anomaly
from tradewatch.anomalies.series import period_span
from tradewatch.periods import add_months, month_range
from tradewatch.sql import table_exists

#: release_revisions' series names -> the detector's series ids (BLS series map through the price seed)
CENSUS_SERIES = {"US imports from China": "total:USA:CHN:import", "US exports to China": "total:USA:CHN:export"}

FirstPublished = Mapping[str, Mapping[date, float]]


def load_first_published(con: duckdb.DuckDBPyConnection) -> dict[str, dict[date, float]]:
    """series_id -> month -> the value as first published, for the series whose vintages are kept."""
    if not table_exists(con, "marts", "release_revisions"):
        return {}
    rows = con.execute("""
        SELECT r.source, r.series, coalesce(p.series_code, r.series), r.period_month, any_value(r.first_published_value)
        FROM marts.release_revisions r
        LEFT JOIN reference.price_series p ON r.source = 'bls' AND p.source_series_id = r.series
        GROUP BY ALL""").fetchall()
    out: dict[str, dict[date, float]] = {}
    for source, series, code, period, value in rows:
        series_id = CENSUS_SERIES.get(series) if source == "census" else f"price:USA:{code}"
        if series_id is not None and value is not None:
            out.setdefault(series_id, {})[period] = value
    return out


def check_revision(anomaly: Anomaly, first_published: FirstPublished) -> Anomaly:
    """Set `held_before_revision`: None when the series' vintages are not kept or the headline is not a YoY one."""
    values = first_published.get(anomaly.series.series_id)
    if not values or "yoy" not in anomaly.method or anomaly.threshold_pct is None:
        return anomaly
    first, last = period_span(anomaly.period, anomaly.months)
    now = [values.get(m) for m in month_range(first, last)]
    then = [values.get(add_months(m, -12)) for m in month_range(first, last)]
    if None in now or None in then or not sum(then):
        return anomaly
    additive = anomaly.series.unit == "usd"
    change = (sum(now) / sum(then) - 1) if additive else (sum(now) / len(now)) / (sum(then) / len(then)) - 1
    threshold = anomaly.threshold_pct / 100
    held = change <= -threshold if anomaly.falling else change >= threshold
    return replace(anomaly, held_before_revision=held)
