"""Alerts a person must see: new anomalies, quarantined releases, failed tasks.

Each anomaly and each quarantined release is sent once per channel: its state is kept in `audit.alerts` (key,
channel), so a re-detected anomaly is not sent again, and a channel that is down keeps its alerts pending for the
next run without failing this one. Task failures are sent as they happen (Airflow calls the task-level failure
callback once, after the last retry). No message carries a secret: every text passes through `redact`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from tradewatch import audit
from tradewatch.anomalies import MONTH_NAMES, SEVERITIES
from tradewatch.notifiers import Alert, Channel, NotifierError, channels
from tradewatch.redact import redact
from tradewatch.settings import Settings, get_settings

log = logging.getLogger("tradewatch.alerts")

DOMAIN_ORDER = ("total", "mirror_gap", "basket", "price", "chapter", "release")


@dataclass(frozen=True)
class DispatchResult:
    sent: dict[str, int]  # channel -> alerts delivered this run
    pending: dict[str, int]  # channel -> alerts still waiting (the channel failed)
    errors: dict[str, str]

    def __str__(self) -> str:
        parts = [f"{ch}: {n} sent" + (f", {self.pending.get(ch, 0)} pending ({self.errors[ch]})"
                                      if ch in self.errors else "") for ch, n in self.sent.items()]
        return "; ".join(parts) or "no channel configured"


# --- messages -----------------------------------------------------------------------------------------------------

def _money(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "usd":
        return f"${value / 1e9:.2f}bn" if abs(value) >= 1e9 else f"${value / 1e6:.1f}m"
    if unit == "cells":
        return f"{value:,.0f} cells"
    return f"{value:.3f}" if unit == "ratio" else f"{value:.1f}"


def _month(d: date | None) -> str:
    return f"{MONTH_NAMES[d.month - 1]} {d.year}" if d else "n/a"


def anomaly_title(row: dict) -> str:
    label, when, method = row["series_label"], row["period_label"], row["method"]
    if method == "went_to_zero":
        return f"{label} went to zero in {when}"
    if method == "vanished":
        return f"{label} is missing from the {when} data"
    if method == "release_shrank":
        return f"{label} in {when}"
    change = row["change_pct"]
    if change is not None and "yoy" in method:
        verb = "fell" if change < 0 else "rose"
        if row.get("is_low_base"):  # no percentage headline on a tiny year-earlier level: the levels instead
            unit = row["unit"]
            return (f"{label} {verb} to {_money(row['observed'], unit)} a month in {when}, from "
                    f"{_money(row.get('prior_value'), unit)} a year earlier")
        return f"{label} {verb} {abs(change):.1f}% year on year in {when}"
    verb = "fell" if (row["score"] or 0) < 0 else "rose"
    return f"{label} {verb} far more than usual for the season in {when}"


def stability_text(row: dict) -> str | None:
    """Would the same headline have held a month earlier, and on the figures as first published?"""
    if row.get("is_stable") is None:
        return None
    if row.get("held_before_revision") is False:
        return ("Not stable: on the figures as first published it would not have crossed the threshold; the latest "
                "revision made it.")
    if not row.get("held_previous_period"):
        return "Not yet stable: the first anomalous period, not confirmed by the one before."
    revised = " and on the figures as first published" if row.get("held_before_revision") else ""
    return f"Stable: it held in the previous period too{revised}."


def anomaly_text(row: dict) -> str:
    unit = row["unit"]
    parts = [anomaly_title(row) + "."]
    if row["method"] in ("went_to_zero", "vanished", "release_shrank"):
        parts.append(f"Now {_money(row['observed'], unit)}, was {_money(row['expected'], unit)}.")
    else:
        score = f"; robust z {row['score']:+.1f}" if row["score"] is not None else ""
        confidence = ", low confidence: under 36 months of history" if row["confidence"] == "low" else ""
        per = " a month" if unit == "usd" else ""
        parts.append(f"{_money(row['observed'], unit)}{per} against {_money(row['expected'], unit)} expected"
                     f"{score}{confidence}.")
        if row.get("is_low_base"):
            parts.append("A small base a year earlier: no percentage headline.")
        elif row["change_pct"] is not None and row["change_pct"] < 0 and "yoy" in row["method"]:
            if row["largest_fall_since"]:
                parts.append(f"Largest fall since {_month(row['largest_fall_since'])}.")
            else:
                parts.append(f"Largest fall on record (data from {_month(row['history_start'])}).")
        if row["consecutive_months"] > 1:
            parts.append(f"Anomalous for {row['consecutive_months']} periods in a row.")
        if row.get("top_contributions"):
            parts.append(f"{row['top_contributions']}.")
        if stability := stability_text(row):
            parts.append(stability)
    if row["likely_cause"]:
        parts.append(f"Likely cause: {row['likely_cause']}.")
    if row["is_synthetic"]:
        parts.append("(SYNTHETIC sample data.)")
    parts.append(f"See: {row['query']}")
    return " ".join(parts)


#: the columns of marts.anomalies an alert carries (the JSON webhook's fields; stories are grouped by them)
ALERT_FIELDS = ("anomaly_id", "series_id", "series_label", "domain", "category", "direction", "reporter_iso3",
                "partner_iso3", "flow", "code", "period_month", "period_label", "method", "observed", "expected",
                "prior_value", "change_pct", "change_usd", "score", "confidence", "is_low_base", "is_stable",
                "top_contributions", "likely_cause", "likely_cause_event_id", "events", "query", "is_synthetic",
                "largest_fall_since")


def _alert_of(row: dict) -> Alert:
    fields = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if k in ALERT_FIELDS}
    return Alert(row["anomaly_id"], "anomaly", row["severity"], anomaly_title(row), anomaly_text(row), fields)


def anomaly_alerts(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Alert]:
    """The anomalies worth paging about: at or above the minimum severity and recent in their series (a backfill
    stores history in marts.anomalies but does not page about it), most severe first, then the largest."""
    allowed = list(SEVERITIES[SEVERITIES.index(settings.alerts.min_severity):])
    cursor = con.execute(
        f"""SELECT * FROM marts.anomalies
            WHERE severity IN ({', '.join('?' * len(allowed))})
              AND period_month > series_last_period - to_months(?)
            ORDER BY list_position(?, severity) DESC, abs(change_usd) DESC NULLS LAST, period_month DESC,
                     list_position(?, domain), series_id""",
        [*allowed, settings.alerts.lookback_months, list(SEVERITIES), list(DOMAIN_ORDER)])
    names = [d[0] for d in cursor.description]
    return [_alert_of(dict(zip(names, r, strict=True))) for r in cursor.fetchall()]


# --- delivery with state ------------------------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def dispatch(con: duckdb.DuckDBPyConnection, settings: Settings, alerts: Sequence[Alert],
             targets: Sequence[Channel] | None = None) -> DispatchResult:
    """Record the alerts not seen before, then send every pending alert per channel (one digest per channel).

    Never raises for a channel that fails: the failure is logged and the alerts stay pending."""
    targets = list(targets) if targets is not None else channels(settings.alerts)
    secrets = settings.secrets
    now = _now()
    for channel in targets:
        for position, alert in enumerate(alerts):
            audit.record_alert(con, alert.key, channel.name, alert.kind, alert.severity, redact(alert.title, secrets),
                               redact(alert.text, secrets), redact(json.dumps(alert.fields, default=str), secrets),
                               now, position)
    sent, pending, errors = {}, {}, {}
    for channel in targets:
        rows = audit.pending_alerts(con, channel.name)
        batch = [Alert(k, kind, sev, title, text, json.loads(fields) if fields else {})
                 for k, kind, sev, title, text, fields in rows]
        if not batch:
            sent[channel.name] = 0
            continue
        keys = [a.key for a in batch]
        try:
            channel.send(batch)
        except (NotifierError, OSError) as exc:
            error = redact(str(exc), secrets)
            log.warning("alert channel %s failed, %d alert(s) stay pending for the next run: %s", channel.name,
                        len(batch), error)
            audit.mark_alerts_failed(con, channel.name, keys, _now(), error)
            sent[channel.name], pending[channel.name], errors[channel.name] = 0, len(batch), error
            continue
        audit.mark_alerts_sent(con, channel.name, keys, _now())
        sent[channel.name] = len(batch)
    return DispatchResult(sent, pending, errors)


def notify_anomalies(con: duckdb.DuckDBPyConnection, settings: Settings) -> DispatchResult:
    result = dispatch(con, settings, anomaly_alerts(con, settings))
    log.info("alerts: %s", result)
    return result


def quarantine_alert(release_id: str, dataset: str, period: str, failed: Sequence[str], result_path: str) -> Alert:
    checks = "; ".join(failed[:5]) or "see the validation result"
    title = f"release {dataset} {period} failed its quality suite and was quarantined"
    text = (f"{title}: {checks}. The marts keep the last good data. Details: {result_path}. Fix the source or the "
            f"suite and run `tradewatch quality revalidate {release_id}`, or release it with `tradewatch quality "
            f"release {release_id} --reason ...`.")
    return Alert(f"quarantine:{release_id}", "quarantine", "critical", title, text,
                 {"release_id": release_id, "dataset": dataset, "period": period, "failed": list(failed)})


# --- task failures ------------------------------------------------------------------------------------------------

def task_failed(dag_id: str, task_id: str, run_id: str, map_index: int | None, error: BaseException | str | None,
                try_number: int | None = None, settings: Settings | None = None) -> str:
    """Report a failed pipeline task on every channel: what failed, in which run, and why (secrets removed).

    Sent without state (each failure is its own event) and never raises: a callback must not fail. `settings`: the
    task's (with its Airflow connections); read from the environment when not given."""
    settings = settings or get_settings()
    secrets = settings.secrets
    where = f"{task_id}[{map_index}]" if map_index not in (None, -1) else task_id
    text = redact(str(error) if error is not None else "unknown error", secrets)
    message = f"tradewatch: task {where} of {dag_id} failed (run {run_id}, try {try_number}): {text}"
    title = f"task {where} of {dag_id} failed"
    alert = Alert(f"task:{dag_id}:{run_id}:{where}", "task_failure", "critical", title, message[:6000],
                  {"dag_id": dag_id, "task_id": task_id, "run_id": run_id, "map_index": map_index})
    for channel in channels(settings.alerts):
        try:
            channel.send([alert])
        except Exception as exc:  # noqa: BLE001 - the callback reports, it must not raise
            log.error("alert channel %s could not report the failure: %s", channel.name, redact(str(exc), secrets))
    if not settings.alerts.log:
        log.error(message)
    return message
