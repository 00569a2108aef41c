"""Anomaly detection over every series in the marts, in four jobs:

- `series`: what is judged (totals, chapters, baskets, prices, the mirror gap), read from the marts, in blocks that
  keep the Lunar New Year from raising false alarms;
- `detection`: the statistics (YoY beyond a threshold, the seasonal robust z-score, data drops), severity,
  materiality and the low-base guard; `stability` adds whether the headline held on the figures as first published;
- `events`: the tariff steps and export controls in a window before each anomaly, and the likeliest cause;
- `contributions`: the chapters and HS6 lines that carried each change, as shares of it.

`scan_anomalies` runs them and writes the raw findings to schema `detector` (`scan_changed`, the refresh's: only the
series with a changed period since the last scan); dbt builds the public mart `marts.anomalies` from them
(models/marts/anomalies). docs/anomalies.md has the methods and thresholds.
"""

from tradewatch.anomalies.contributions import Contribution, Part, decompose
from tradewatch.anomalies.detection import SEVERITIES, Anomaly, Rules, detect, release_shrinks, vanished
from tradewatch.anomalies.events import Event, attach_events, load_events
from tradewatch.anomalies.findings import by_severity
from tradewatch.anomalies.scan import changed_months, rules_from, scan_anomalies, scan_changed
from tradewatch.anomalies.series import (
    MONTH_NAMES,
    Block,
    Point,
    Series,
    SeriesFilter,
    blocks,
    load_series,
    period_label,
    period_span,
)

__all__ = ["MONTH_NAMES", "SEVERITIES", "Anomaly", "Block", "Contribution", "Event", "Part", "Point", "Rules",
           "Series", "SeriesFilter", "attach_events", "blocks", "by_severity", "decompose", "detect",
           "changed_months", "load_events", "load_series", "period_label", "period_span", "release_shrinks",
           "rules_from", "scan_anomalies", "scan_changed", "vanished"]
