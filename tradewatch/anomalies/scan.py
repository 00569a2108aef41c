"""The scan: every series (or those a filter selects) through detection, event attribution, the revision check and
the contributions, written to the detector's tables in one transaction. dbt then builds marts.anomalies from them
(tradewatch.transform.build_anomalies).

The refresh's scan (`scan_changed`) judges only the series whose periods changed since the last scan: the months the
builds since then rebuilt and the publishers of the datasets they read (audit.builds, audit.releases), and every
series of a group with a point from one of those publishers in one of those months (a series' findings depend on its
own history and, for `vanished`, on its group's latest month). The other findings are kept as they
were: the result is the one a full scan would give. A full build, a first scan, or other rules, events or detector
code than the last scan's mean a full scan."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from tradewatch import audit
from tradewatch.anomalies import findings
from tradewatch.anomalies.contributions import contributions
from tradewatch.anomalies.detection import SEVERITIES, Anomaly, Rules, detect, release_shrinks, vanished
from tradewatch.anomalies.events import attach_events, load_events
from tradewatch.anomalies.series import Series, SeriesFilter, load_series
from tradewatch.anomalies.stability import check_revision, load_first_published
from tradewatch.sql import table_exists

log = logging.getLogger("tradewatch.anomalies")

#: A release of the publisher on the left changes the findings of the other publishers' series: China's totals and
#: baskets are GACC's, the chapters and lines that carried their changes (the contributions) Comtrade's, which
#: publishes months later; when Comtrade's month arrives, the GACC series of that month are judged again.
ALSO_CHANGES: dict[str, tuple[str, ...]] = {"comtrade": ("gacc",)}


def rules_from(settings) -> Rules:
    """The detection thresholds from settings.anomalies (the environment)."""
    a = settings.anomalies
    return Rules(z_threshold=a.z_threshold, materiality_pct=a.materiality_pct,
                 event_window_months=a.event_window_months, yoy_total_pct=a.yoy_total_pct,
                 low_base_usd=a.low_base_usd)


def scan_anomalies(con: duckdb.DuckDBPyConnection, rules: Rules, select: SeriesFilter | None = None) -> list[Anomaly]:
    """Detect over the series in the marts and replace the detector's findings in one transaction.

    `select` limits the scan to some series (their findings are replaced, the others' kept); None scans all (and
    is recorded as the state the next `scan_changed` starts from)."""
    every = load_series(con)
    chosen = every if select is None else [s for s in every if select(s)]
    ids = {s.series_id for s in chosen}
    found = _judge(con, rules, every, chosen, releases=select is None)
    parts = contributions(con, found)
    if select is None:
        findings.write(con, found, parts, scan=("full", *_state(con, rules), None, len(chosen)))
    else:
        findings.write(con, found, parts, ids)
    _log("anomaly scan", chosen, found, len(parts))
    return found


def scan_changed(con: duckdb.DuckDBPyConnection, rules: Rules) -> list[Anomaly]:
    """The refresh's scan: only the series with a changed period since the last scan (the module's doc has how it
    stays equal to a full scan), or every series when that cannot be known. Returns what this scan found (the
    findings of the series it did not judge are kept: `findings.by_severity` counts them all)."""
    months, publishers, why = changes(con, rules)
    if months is None:
        log.info("anomaly scan: full (%s)", why)
        return scan_anomalies(con, rules)
    chosen = load_series(con, months, publishers)
    found = _judge(con, rules, chosen, chosen, releases=True)
    parts = contributions(con, found)
    groups = {findings.group_key(s.domain, s.reporter, s.partner, s.flow) for s in chosen}
    findings.write(con, found, parts, replace=findings.Replace(groups=groups, releases=True),
                   scan=("incremental", *_state(con, rules), months, len(chosen)))
    _log(f"anomaly scan: incremental ({why}; {len(groups)} group(s) of series)", chosen, found, len(parts))
    return found


def changed_months(con: duckdb.DuckDBPyConnection, rules: Rules) -> tuple[list[date] | None, str]:
    """The months rebuilt since the last recorded scan, or None (and why) when a full scan is due."""
    months, _, why = changes(con, rules)
    return months, why


def changes(con: duckdb.DuckDBPyConnection, rules: Rules) -> tuple[list[date] | None, list[str], str]:
    """The months rebuilt since the last recorded scan (audit.builds) and the publishers of the datasets those
    builds read (audit.releases), or None (and why) when a full scan is due: no scan recorded, a full or unfinished
    build since, or other rules, events or detector code."""
    if not table_exists(con, findings.SCHEMA, "scans"):
        return None, [], "no earlier scan recorded"
    last = con.execute(f"SELECT last_build, fingerprint FROM {findings.SCHEMA}.scans ORDER BY scanned_at DESC "
                       "LIMIT 1").fetchall()
    if not last:
        return None, [], "no earlier scan recorded"
    last_build, fingerprint = last[0]
    if fingerprint != _state(con, rules)[1]:
        return None, [], "the rules, the events or the detector changed since the last scan"
    builds = audit.builds_since(con, last_build)
    if last_build is None and builds:
        return None, [], "the marts were built before the last scan recorded its build"
    if any(mode != "incremental" or not finished for mode, finished, _, _ in builds):
        return None, [], "a full or unfinished build since the last scan"
    months = sorted({m for *_, periods, _ in builds for m in periods})
    released = audit.publishers_of(con, sorted({d for *_, names in builds for d in names}))
    publishers = sorted({*released, *(p for r in released for p in ALSO_CHANGES.get(r, ()))})
    return months, publishers, (f"{len(builds)} build(s) since the last scan: {len(months)} month(s) of "
                                f"{', '.join(publishers) or 'no publisher'}")


def _judge(con: duckdb.DuckDBPyConnection, rules: Rules, every: Sequence[Series], chosen: Sequence[Series], *,
           releases: bool) -> list[Anomaly]:
    """Detection over `chosen` (`vanished` against their groups in `every`), the release checks when asked, then
    the events and the revision check; sorted as the findings are written."""
    events, basket_codes = load_events(con)
    first_published = load_first_published(con)
    found: list[Anomaly] = []
    for series in chosen:
        found.extend(detect(series, rules))
    ids = {s.series_id for s in chosen}
    found.extend(a for a in vanished(every, rules) if a.series.series_id in ids)
    if releases:
        found.extend(release_shrinks(con))
    found = [check_revision(attach_events(a, events, basket_codes, rules.event_window_months), first_published)
             for a in found]
    found.sort(key=lambda a: (a.period, -SEVERITIES.index(a.severity), a.series.series_id))
    return found


def _state(con: duckdb.DuckDBPyConnection, rules: Rules) -> tuple:
    """(the latest build a scan sees, a fingerprint of what judges every series alike: the rules, the events and
    baskets, the detector's code)."""
    last_build = audit.latest_build_start(con)
    digest = hashlib.sha256(repr(rules).encode())
    for table in ("marts.tariff_events", "reference.commodity_baskets"):
        digest.update(str(con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchall()).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return last_build, digest.hexdigest()[:16]


def _log(what: str, chosen: Sequence[Series], found: Sequence[Anomaly], parts: int) -> None:
    log.info("%s: %d series, %d anomalies (%d critical, %d warning, %d info), %d contributions", what,
             len(chosen), len(found), *(sum(a.severity == s for a in found) for s in ("critical", "warning", "info")),
             parts)
