"""Event attribution: the tariff steps and export controls in a window before an anomaly, and the likeliest cause.

Events act on a direction of trade: a US tariff or a Chinese export control on China->US trade, a Chinese tariff or
a US export control on US->China trade, truces on both. This is an association in time, not an attribution: the
messages say "likely cause", and the full list is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import duckdb

from tradewatch.anomalies.detection import Anomaly
from tradewatch.anomalies.series import Series, period_span
from tradewatch.periods import add_months


@dataclass(frozen=True)
class Event:
    event_id: str
    side: str
    event_type: str
    measure: str
    effective: date
    rate_before: float | None
    rate_after: float | None
    hs_scope: str | None
    baskets: str | None

    @property
    def direction(self) -> set[str]:
        if self.event_type == "truce":
            return {"CN->US", "US->CN"}
        imposer_exports = self.event_type == "export_control"  # controls restrict the imposer's own exports
        us_to_cn = (self.side == "US") == imposer_exports
        return {"US->CN" if us_to_cn else "CN->US"}

    @property
    def restrictive(self) -> bool:
        if self.event_type in ("truce", "court", "exemption"):  # an exemption lifts a tariff: relief
            return False
        if self.rate_before is not None and self.rate_after is not None:
            return self.rate_after > self.rate_before
        return True

    def describe(self) -> str:
        text = f"{self.effective.isoformat()} {self.side} {self.measure}"
        if self.rate_before is not None and self.rate_after is not None and self.rate_before != self.rate_after:
            text += f" ({self.rate_before:g}% -> {self.rate_after:g}%)"
        return text


def load_events(con: duckdb.DuckDBPyConnection) -> tuple[list[Event], dict[str, list[str]]]:
    events = [Event(*row) for row in con.execute(
        "SELECT event_id, side, event_type, measure, date_effective, rate_before_pct, rate_after_pct, hs_scope, "
        "affected_baskets FROM marts.tariff_events WHERE NOT is_alternative AND date_effective IS NOT NULL "
        "ORDER BY date_effective, event_id").fetchall()]
    baskets: dict[str, list[str]] = {}
    for basket, code in con.execute("SELECT basket, hs_code FROM reference.commodity_baskets").fetchall():
        baskets.setdefault(basket, []).append(code)
    return events, baskets


def _specificity(event: Event, series: Series, basket_codes: dict[str, list[str]]) -> int:
    """0: unrelated; 1: a measure on part of what the series covers or on unknown lines; 2: on all of it."""
    scope = [] if event.hs_scope in (None, "", "all") else event.hs_scope.split(";")
    if series.domain == "basket":
        if event.baskets and series.code in event.baskets.split(";"):
            return 2
        codes = basket_codes.get(series.code or "", [])
        if scope:
            return 2 if any(c.startswith(s) or s.startswith(c) for s in scope for c in codes) else 0
        return 1 if not event.baskets else 0
    if series.domain == "chapter":
        if scope:
            return 2 if any(s.startswith(series.code or "~") or (series.code or "").startswith(s)
                            for s in scope) else 0
        return 1 if not event.baskets else 0
    if event.baskets and not scope and event.event_type == "export_control":
        return 1  # targeted controls explain part of a total
    return 2 if event.hs_scope == "all" else 1


def attach_events(anomaly: Anomaly, events: Sequence[Event], basket_codes: dict[str, list[str]],
                  window_months: int) -> Anomaly:
    """The events in the window before the anomaly, and the likeliest cause among them."""
    series = anomaly.series
    if anomaly.likely_cause is not None or series.direction is None:
        return anomaly
    first, last = period_span(anomaly.period, anomaly.months)
    start, end = add_months(first, -window_months), add_months(last, 1)
    scored = [(spec, e) for e in events
              if start <= e.effective < end and series.direction in e.direction
              and (spec := _specificity(e, series, basket_codes)) > 0]
    if not scored:
        return replace(anomaly, likely_cause="no tariff step or export control in the window: look for another "
                                             "cause (demand, prices, a data revision)", events="")
    fall = (anomaly.change_pct or 0) < 0 or (anomaly.score or 0) < 0
    best = max(scored, key=lambda se: (se[1].restrictive == fall, se[0], se[1].rate_after or 0, se[1].effective))[1]
    listed = "; ".join(e.describe() for _, e in sorted(scored, key=lambda se: se[1].effective)[-8:])
    return replace(anomaly, likely_cause=best.describe(), likely_cause_event_id=best.event_id, events=listed)
