"""The monthly refresh, one function per task. The Airflow DAG wires these; tests and the CLI call them directly.

Arguments and return values are plain JSON-able data, so they travel through XCom unchanged.
"""

from __future__ import annotations

import json
import logging
import textwrap
from datetime import date, datetime, timedelta

from tradewatch import alerts, anomalies, quality, sources, transform
from tradewatch.batching import consecutive_batches
from tradewatch.errors import NotYetPublished, SourceError, TradewatchError
from tradewatch.http import SYNTHETIC_HEADER, HttpTransport, ReplayTransport, Transport
from tradewatch.landing import LandedPart, LandedRelease, LandingZone, utc_now
from tradewatch.notifiers import ConnectionLookup
from tradewatch.periods import add_months, format_month, parse_month, reference_month
from tradewatch.redact import redact
from tradewatch.settings import Settings
from tradewatch.sources.base import Publisher, SourceClient
from tradewatch.warehouse import load_batch, load_release, open_warehouse, release_status

log = logging.getLogger(__name__)

DATASETS = tuple(sources.all_datasets())


def transport_for(settings: Settings, publisher: Publisher) -> Transport:
    """Replay of the release archive, or the live API with the publisher's key added at send time."""
    if settings.source_mode == "replay":
        return ReplayTransport(settings.archive_dir)
    if publisher.key is None:
        return HttpTransport(settings.http)
    key = settings.sources[publisher.name].api_key.reveal()
    if not key and publisher.key.required:
        raise TradewatchError(f"{publisher.key.variable} is not set: {publisher.title} requires an API key. Get "
                              f"one at {publisher.key.signup}, or run on the sample archive "
                              "(TRADEWATCH_SOURCE_MODE=replay)")
    secret = {publisher.key.param: key} if key else {}
    return HttpTransport(settings.http, **{f"secret_{publisher.key.location}": secret})


def plan(settings: Settings, logical_date: str) -> list[dict]:
    """What to fetch in this run, per dataset: the releases from the start month to the reference month that the
    warehouse does not hold, the reference month itself (unchanged bytes are a no-op), and the months the
    publisher revises in this release (Census: the three prior years in June). An annual dataset has releases for
    December only: its year is fetched in the run whose reference month is that December (with Census's lag of
    two months, February's), again when the June release revises it, and otherwise only while it is missing."""
    when = datetime.fromisoformat(logical_date)
    with open_warehouse(settings.duckdb_path) as con:
        known = {
            (ds, p.strftime("%Y-%m"))
            for ds, p in con.execute(
                "SELECT DISTINCT dataset, period FROM audit.releases WHERE status <> 'rejected'").fetchall()
        }
    work = []
    for name, ds in sources.all_datasets().items():
        publisher = sources.publisher_of(name)
        ref = reference_month(when, settings.sources[ds.source].lag_months)
        if ref < settings.start_month:
            raise TradewatchError(f"reference month {format_month(ref)} is before TRADEWATCH_START_MONTH "
                                  f"{format_month(settings.start_month)}")
        revision = publisher.revision_months(ref)
        months = [format_month(m) for m in sources.release_periods(name, settings.start_month, ref)]
        # the newest release is fetched again in the run whose reference month is one of the dataset's months
        latest = months[-1] if months and ref.month in ds.release_months else None
        if publisher.backfills:
            wanted = [m for m in months if (name, m) not in known or m == latest or m in revision]
        else:  # the publisher serves only what is in force now (USITC's current HTS revision)
            wanted = months[-1:]
        work.append({"dataset": name, "periods": wanted, "reference_month": format_month(ref),
                     "as_of": when.date().isoformat()})
        log.info("%s: %d release(s) to fetch, reference month %s", name, len(wanted), format_month(ref))
    return work


def expected_release(settings: Settings, dataset: str, period: str) -> date:
    """The day by which `period` of `dataset` is normally published (the publisher's calendar)."""
    publisher = sources.publisher_of(dataset)
    month = parse_month(period)
    months_after = publisher.calendar.months_after
    if publisher.skips_month(add_months(month, 1)):
        months_after += 1  # a period that includes the next month (GACC's January-February) comes out later
    due = add_months(month, months_after)
    return date(due.year, due.month, settings.sources[publisher.name].release_day)


def fetch(settings: Settings, dataset: str, periods: list[str], as_of: str | None = None,
          reference_month: str | None = None, now: datetime | None = None) -> dict:
    """Fetch and land every period; write a manifest per release. Raises after trying all if any failed.

    A period not published yet is normal before its calendar day and a late-release warning after it; `as_of` is
    the run's logical date (today when called by hand). When the run's `reference_month` is not out yet and its
    calendar deadline has not passed (by the wall clock: waiting is about the real world), the result carries
    `wait_until`, the moment to try again: the DAG defers the task until then instead of failing the run.
    """
    today = date.fromisoformat(as_of) if as_of else date.today()
    publisher = sources.publisher_of(dataset)
    ds = publisher.datasets[dataset]
    skipped = [p for p in periods if parse_month(p).month not in ds.release_months]
    if skipped:  # e.g. an annual dataset asked for months other than December: there is nothing to fetch
        log.info("%s has releases for %s only: nothing to fetch for %s", dataset, sources.release_months_text(ds),
                 ", ".join(skipped))
        periods = [p for p in periods if p not in skipped]
    source = settings.sources[ds.source]
    client = SourceClient(publisher, transport_for(settings, publisher), source.base_url, source.pages)
    zone = LandingZone(settings.landing_dir)
    landed, not_published, late, failures = [], [], [], []
    for index, period in enumerate(periods, start=1):
        try:
            responses = client.fetch_release(ds, parse_month(period))
        except NotYetPublished as exc:
            not_published.append(period)
            due = expected_release(settings, dataset, period)
            if today > due:
                late.append(period)
                log.warning("late release: %s %s was due by %s and is still not published: %s", dataset, period,
                            due, exc)
            else:
                log.info("%s", exc)
            continue
        except SourceError as exc:
            problem = redact(str(exc), settings.secrets)  # a publisher may quote the key back in its message
            failures.append(problem if problem.startswith(f"{dataset} {period}") else f"{dataset} {period}: {problem}")
            log.error("%s %s failed: %s", dataset, period, problem)
            continue
        synthetic = any(response.header(SYNTHETIC_HEADER) for _, _, response in responses)
        try:
            parts = []
            for name, request, response in responses:
                sha, rel = zone.store(response.body)
                parts.append(LandedPart(name, response.url, sha, rel, response.status, len(response.body),
                                        response.header("Content-Type"), request.body))
            release = LandedRelease(ds.source, dataset, period, utc_now(), tuple(parts), synthetic)
            zone.write_manifest(release)
        except OSError as exc:  # the disk is full, or the landing folder is not writable
            raise TradewatchError(
                f"cannot land {dataset} {period} in {settings.landing_dir}: {exc.strerror or exc}. Nothing "
                f"half-written is kept and the {len(landed)} release(s) landed before are intact; free space (or "
                "fix the folder's permissions) and run again") from exc
        landed.append(release.release_id)
        if index % 24 == 0 or index == len(periods):
            log.info("%s: fetched %d of %d release(s)", dataset, index, len(periods))
    if failures:
        raise SourceError(f"{len(failures)} of {len(periods)} {dataset} release(s) could not be fetched; the "
                          f"{len(landed)} landed are kept:\n" + "\n".join(failures))
    wait_until = None
    if reference_month in not_published:
        wait_until = release_wait(settings, dataset, reference_month, now or datetime.now())
        if wait_until:
            log.info("%s %s is not out yet; its calendar deadline has not passed: trying again at %s", dataset,
                     reference_month, wait_until)
    return {"dataset": dataset, "landed": len(landed), "not_published": not_published, "late": late,
            "wait_until": wait_until, "skipped": skipped}


def release_wait(settings: Settings, dataset: str, period: str, now: datetime) -> str | None:
    """When to look again for a release not out yet: every poll interval until its calendar deadline, then no more
    (past the deadline the run goes on without it and a late-release warning is logged)."""
    due = expected_release(settings, dataset, period)
    if now.date() > due:
        return None
    return min(now + timedelta(hours=settings.release_poll_hours),
               datetime.combine(due + timedelta(days=1), datetime.min.time())).isoformat(timespec="minutes")


#: Landed bytes loaded in one transaction by a batch load (bounds the memory of one batch).
BATCH_BYTES = 256 * 1024 * 1024


def load(settings: Settings, dataset: str) -> dict:
    """Load every landed release of `dataset` that the warehouse does not hold yet.

    Publishers that parse many files at once load in batches (one pass, one transaction per batch); the others one
    transaction per release. Either way a release that cannot be parsed is rejected alone."""
    zone = LandingZone(settings.landing_dir)
    manifests = sorted((settings.landing_dir / "manifests" / dataset).glob("*/*.json"))
    counts = {"loaded": 0, "unchanged": 0, "rejected": 0}
    rejected = []
    with open_warehouse(settings.duckdb_path) as con:
        todo = []
        for path in manifests:
            release = zone.read_manifest(path)
            status = release_status(con, release.release_id)
            if status is not None and status != "rejected":
                counts["unchanged"] += 1
            else:
                todo.append(release)
        batched = sources.publisher_of(dataset).stage_files is not None
        done = 0
        groups = consecutive_batches(todo, lambda r: sum(p.bytes for p in r.parts), BATCH_BYTES) if batched \
            else [[release] for release in todo]
        for group in groups:
            results = load_batch(con, zone, group) if batched else [load_release(con, zone, group[0])]
            for result in results:
                counts[result.status] += 1
                if result.status == "rejected":
                    rejected.append(f"{dataset} {result.period}: {result.detail}")
            if (done + len(group)) // 24 > done // 24 or done + len(group) == len(todo):
                log.info("%s: %d of %d new release(s) loaded", dataset, done + len(group), len(todo))
            done += len(group)
    log.info("%s: %s", dataset, counts)
    if rejected:
        raise TradewatchError(f"{len(rejected)} {dataset} release(s) could not be loaded and were rejected; "
                              "nothing of them reached raw and everything loaded before is intact:\n"
                              + "\n".join(rejected))
    return {"dataset": dataset, **counts}


def validate(settings: Settings, dataset: str, lookup: ConnectionLookup | None = None) -> dict:
    results = quality.validate_pending(settings, dataset, lookup)
    return {"dataset": dataset, "published": sum(r.success for r in results)}


def build(settings: Settings, full: bool = False) -> dict:
    """Bring the marts up to what is published (incrementally: only the periods published since the last build),
    then check source freshness (warnings only)."""
    plan, warnings = transform.build(settings, full=full)
    return {"built": plan.mode, "periods": len(plan.periods), "freshness_warnings": warnings}


def detect_anomalies(settings: Settings) -> dict:
    """Scan the series with a changed period since the last scan (every series after a full build; the detector
    writes its findings), then build marts.anomalies from them. The counts are of all the findings."""
    with open_warehouse(settings.duckdb_path) as con:
        anomalies.scan_changed(con, anomalies.rules_from(settings))
        found = anomalies.by_severity(con)
    transform.build_anomalies(settings)
    counts = {s: found.get(s, 0) for s in anomalies.SEVERITIES}
    return {"anomalies": sum(counts.values()), **counts}


def send_alerts(settings: Settings, lookup: ConnectionLookup | None = None) -> dict:
    """Send the new anomalies to every channel, once each; a channel that is down keeps them pending."""
    with open_warehouse(settings.duckdb_path) as con:
        result = alerts.notify_anomalies(con, settings, lookup)
    return {"sent": result.sent, "pending": result.pending, "errors": result.errors}


def publish(settings: Settings, lookup: ConnectionLookup | None = None) -> dict:
    """After a fully successful refresh: PostgreSQL (if configured), the DuckDB snapshot, Parquet, the report."""
    from tradewatch import report, serve

    result = serve.publish(settings, lookup)
    result["report"] = str(report.write(settings))
    return result


def alerts_summary(settings: Settings) -> str:
    """Anomalies by severity, alerts by channel and status, and the latest dispatch as the stories it sent."""
    from tradewatch import stories
    from tradewatch.notifiers import Alert

    lines = []
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        if _has_table(con, "marts", "anomalies"):
            counts = dict(con.execute("SELECT severity, count(*) FROM marts.anomalies GROUP BY 1").fetchall())
            lines.append("  marts.anomalies: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in anomalies.SEVERITIES)
                         + " (info: immaterial chapters, never sent)")
        for channel, status, n in con.execute(
                "SELECT channel, status, count(*) FROM audit.alerts GROUP BY ALL ORDER BY 1, 2").fetchall():
            lines.append(f"  audit.alerts: {channel:<8} {status:<8} {n}")
        rows = con.execute(
            "SELECT alert_key, kind, severity, title, message, fields, created_at FROM audit.alerts WHERE channel = "
            "(SELECT min(channel) FROM audit.alerts) AND created_at = (SELECT max(created_at) FROM audit.alerts) "
            "ORDER BY position").fetchall()
    if rows:
        batch = [Alert(key, kind, severity, title, text, json.loads(fields) if fields else {})
                 for key, kind, severity, title, text, fields, _ in rows]
        grouped = stories.group(batch)
        lines.append(f"  the latest alerts, first recorded {rows[0][6]:%Y-%m-%d %H:%M} UTC: {len(batch)} alert(s) in "
                     f"{len(grouped)} stor{'y' if len(grouped) == 1 else 'ies'}, one message per channel, most severe "
                     "first:")
        for story in grouped:
            lines.append(f"  [{story.severity.upper()}] {story.title} ({len(story.alerts)} alert(s))")
            lines += textwrap.wrap(story.text, 112, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(lines) or "  no anomalies scanned and no alerts yet"


def rerouting_summary(settings: Settings, top: int = 8) -> str:
    """The top rerouting candidates of the latest month: HS6 lines where a third country took China's place."""
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        if not _has_table(con, "marts", "trade_diversion_monthly"):
            return "  no rerouting monitor built yet"
        rows = con.execute(
            "SELECT period_month, hs_code, description, rerouting_partner_iso3, rerouting_partner_gain_pts, "
            "rerouting_china_drop_pts, rerouting_shifted_usd / 1e6, rerouting_confidence, rerouting_horizon, "
            "rerouting_explanation FROM marts.trade_diversion_monthly WHERE hs_level = 'HS6' AND rerouting_signal "
            "AND period_month = (SELECT max(period_month) FROM marts.trade_diversion_monthly) "
            "ORDER BY rerouting_shifted_usd DESC LIMIT ?", [top]).fetchall()
    if not rows:
        return "  no line shows the rerouting pattern in the latest month"
    out = [f"  {rows[0][0]:%B %Y}: HS6 lines where a third country took China's place in US imports "
           "(marts.trade_diversion_monthly)",
           f"  {'line':<7} {'description':<36} {'to':<4} {'gain':>6} {'China':>6} {'US$m/mo':>8} {'confidence':<10} "
           "horizon"]
    for _, code, description, partner, gain, drop, shifted, confidence, horizon, explanation in rows:
        out.append(f"  {code:<7} {(description or '')[:36]:<36} {partner:<4} {gain:>+6.1f} {-drop:>+6.1f} "
                   f"{shifted:>8.1f} {confidence:<10} {horizon}")
        out += textwrap.wrap(explanation, 108, initial_indent="          ", subsequent_indent="          ")
    return "\n".join(out)


def summary(settings: Settings) -> str:
    """A short account of the warehouse: releases by status and the latest trade balance rows."""
    lines = []
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        for dataset, status, n, first, last in con.execute(
            "SELECT dataset, status, count(*), min(period), max(period) FROM audit.releases "
            "GROUP BY ALL ORDER BY 1, 2").fetchall():
            lines.append(f"  {dataset:<26} {status:<12} {n:>4} release(s)  {first:%Y-%m} .. {last:%Y-%m}")
        lines.append("\n  quality gate (Great Expectations), by dataset:")
        for suite, runs, passed, failed in con.execute(
            "SELECT suite, count(*), count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success) "
            "FROM audit.validations GROUP BY ALL ORDER BY 1").fetchall():
            lines.append(f"  {suite:<26} {runs:>4} validation(s): {passed} passed, {failed} failed")
        lines.append(f"  Data Docs: {quality.docs_dir(settings) / 'index.html'}")
        if _has_table(con, "marts", "trade_balance_monthly"):
            synthetic = con.execute("SELECT bool_or(is_synthetic) FROM marts.trade_balance_monthly").fetchall()[0][0]
            label = " — SYNTHETIC sample data, not published figures" if synthetic else ""
            lines.append(f"\n  marts.trade_balance_monthly (US-reported, partner China, US$ billions){label}:")
            lines.append(f"  {'period':<8} {'exports':>8} {'imports':>8} {'balance':>8} {'imp YoY%':>9} "
                         f"{'bal 12m':>8}")
            for period, exp, imp, bal, yoy, r12 in con.execute(
                "SELECT period_month, exports_usd / 1e9, imports_usd / 1e9, balance_usd / 1e9, imports_yoy_pct, "
                "balance_rolling_12m_usd / 1e9 FROM marts.trade_balance_monthly "
                "WHERE partner_iso3 = 'CHN' ORDER BY period_month DESC LIMIT 18").fetchall():
                yoy_text = f"{yoy:>9.1f}" if yoy is not None else f"{'n/a':>9}"
                r12_text = f"{r12:>8.1f}" if r12 is not None else f"{'n/a':>8}"
                lines.append(f"  {period:%Y-%m}  {exp:>8.2f} {imp:>8.2f} {bal:>8.2f} {yoy_text} {r12_text}")
            lines.append("\n  China-reported (GACC), partner US, May of each year — exports, imports (US$ bn), YoY %:")
            for period, exp, imp, exp_yoy, imp_yoy in con.execute(
                "SELECT period_month, exports_usd / 1e9, imports_usd / 1e9, exports_yoy_pct, "
                "imports_yoy_pct FROM marts.trade_balance_monthly WHERE reporter_iso3 = 'CHN' "
                "AND partner_iso3 = 'USA' AND month(period_month) = 5 ORDER BY period_month DESC LIMIT 3"
            ).fetchall():
                yoys = " ".join(f"{v:+7.1f}" if v is not None else f"{'n/a':>7}" for v in (exp_yoy, imp_yoy))
                lines.append(f"  {period:%Y-%m}  {exp:>8.2f} {imp:>8.2f}  {yoys}")
        if _has_table(con, "marts", "commodity_trade_monthly"):
            lines += _china_reported_commodities(con)
        if _has_table(con, "marts", "tariff_rates_daily"):
            lines += _tariff_key_dates(con)
        if _has_table(con, "marts", "prices_monthly"):
            lines.append("\n  marts.prices_monthly, latest month of each series (index level, YoY %):")
            for country, code, period, value, yoy, prelim in con.execute(
                "SELECT country_iso3, series_code, period_month, index_value, yoy_pct, is_preliminary "
                "FROM marts.prices_monthly QUALIFY row_number() OVER (PARTITION BY country_iso3, series_code "
                "ORDER BY period_month DESC) = 1 ORDER BY country_iso3 DESC, series_code").fetchall():
                yoy_text = f"{yoy:+.1f}%" if yoy is not None else "n/a"
                note = "  (preliminary)" if prelim else ""
                lines.append(f"  {country} {code:<24} {period:%Y-%m} {value:>9.3f} {yoy_text:>7}{note}")
    return "\n".join(lines)


def _china_reported_commodities(con, periods: int = 14) -> list[str]:
    """Rare-earth exports and soybean imports by month as China reports them (GACC's commodity tables, all
    partners), weeks before Comtrade."""
    rows = con.execute(
        "SELECT period_month, any_value(months_in_period), "
        "sum(quantity) FILTER (WHERE basket = 'rare_earths' AND flow = 'export') / 1e3, "
        "sum(value_usd) FILTER (WHERE basket = 'rare_earths' AND flow = 'export') / 1e6, "
        "sum(quantity) FILTER (WHERE basket = 'soybeans' AND flow = 'import') / 1e9, "
        "sum(value_usd) FILTER (WHERE basket = 'soybeans' AND flow = 'import') / 1e6 "
        "FROM marts.commodity_trade_monthly WHERE source = 'gacc' AND basket IN ('rare_earths', 'soybeans') "
        "GROUP BY period_month ORDER BY period_month DESC LIMIT ?", [periods]).fetchall()
    if not rows:
        return []
    out = ["\n  China-reported (GACC major exports and imports, all partners) — rare-earth exports and soybean "
           "imports:", f"  {'period':<10} {'rare earths t':>13} {'US$ m':>8} {'soybeans Mt':>12} {'US$ m':>8}"]
    for period, months, re_t, re_usd, soy_mt, soy_usd in rows:
        label = f"{period:%Y-%m}" + ("+02" if months == 2 else "")
        cells = [f"{v:>{w},.{d}f}" if v is not None else f"{'n/a':>{w}}"
                 for v, w, d in ((re_t, 13, 0), (re_usd, 8, 1), (soy_mt, 12, 2), (soy_usd, 8, 1))]
        out.append(f"  {label:<10} {' '.join(cells)}")
    return out


def _tariff_key_dates(con, min_change_pp: float = 0.25) -> list[str]:
    """The dates each side's trade-weighted tariff moved (fixed base-year weights), with the events of the day."""
    lines = ["\n  marts.tariff_rates_daily: trade-weighted tariff on the other side's goods, stacked line by line, "
             "fixed base-year weights (real reference or warehouse imports, never synthetic):",
             f"  {'side':<5} {'from':<10} {'total %':>8} {'additional %':>13} {'covered %':>10}  weights  events"]
    rows = con.execute(
        "SELECT imposing_side, change_date, total_rate_pct, additional_rate_pct, covered_share_pct, weight_year, "
        "coalesce(events, ''), total_rate_pct - lag(total_rate_pct) OVER (PARTITION BY imposing_side "
        "ORDER BY change_date) FROM marts.tariff_rates_daily WHERE weighting = 'fixed_base_year' "
        "AND hs_level = 'TOTAL' ORDER BY imposing_side DESC, change_date").fetchall()
    for side, day, total, additional, covered, year, events, change in rows:
        if change is None or abs(change) >= min_change_pp:
            lines.append(f"  {side:<5} {day:%Y-%m-%d} {total:>8.1f} {additional:>13.1f} {covered or 0:>10.1f}  "
                         f"{year:<7}  {events.replace(',', ' ')}")
    return lines


def _has_table(con, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                            "AND table_name = ?", [schema, table]).fetchall()[0][0])
