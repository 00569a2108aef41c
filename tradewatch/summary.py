"""The console summary the demo, the CLI and the DAG's last task print: the warehouse's releases and gate verdicts,
the latest marts, the alerts and the rerouting candidates. Read-only: it opens the warehouse read-only."""

from __future__ import annotations

import json
import textwrap

from tradewatch import anomalies, audit, quality
from tradewatch.settings import Settings
from tradewatch.sql import table_exists
from tradewatch.warehouse import open_warehouse


def alerts_summary(settings: Settings) -> str:
    """Anomalies by severity, alerts by channel and status, and the latest dispatch as the stories it sent."""
    from tradewatch import stories
    from tradewatch.notifiers import Alert

    lines = []
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        if table_exists(con, "marts", "anomalies"):
            counts = dict(con.execute("SELECT severity, count(*) FROM marts.anomalies GROUP BY 1").fetchall())
            lines.append("  marts.anomalies: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in anomalies.SEVERITIES)
                         + " (info: immaterial chapters, never sent)")
        for channel, status, n in audit.alert_counts(con):
            lines.append(f"  audit.alerts: {channel:<8} {status:<8} {n}")
        rows = audit.latest_alerts(con)
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
        if not table_exists(con, "marts", "trade_diversion_monthly"):
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


def warehouse_summary(settings: Settings) -> str:
    """A short account of the warehouse: releases by status and the latest trade balance rows."""
    lines = []
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        for dataset, status, n, first, last in audit.release_counts(con):
            lines.append(f"  {dataset:<26} {status:<12} {n:>4} release(s)  {first:%Y-%m} .. {last:%Y-%m}")
        lines.append("\n  quality gate (Great Expectations), by dataset:")
        for suite, runs, passed, failed in audit.validation_counts(con):
            lines.append(f"  {suite:<26} {runs:>4} validation(s): {passed} passed, {failed} failed")
        lines.append(f"  Data Docs: {quality.docs_dir(settings) / 'index.html'}")
        if table_exists(con, "marts", "trade_balance_monthly"):
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
        if table_exists(con, "marts", "commodity_trade_monthly"):
            lines += _china_reported_commodities(con)
        if table_exists(con, "marts", "tariff_rates_daily"):
            lines += _tariff_key_dates(con)
        if table_exists(con, "marts", "prices_monthly"):
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

