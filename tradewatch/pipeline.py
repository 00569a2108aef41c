"""The monthly refresh, one function per task. The Airflow DAG wires these; tests and the CLI call them directly.

Arguments and return values are plain JSON-able data, so they travel through XCom unchanged: that is the one place
a month is text ("YYYY-MM"); inside, it is a `periods.Month` from the first line of each function.
"""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import date, datetime, timedelta

from tradewatch import alerts, anomalies, audit, quality, sources, transform
from tradewatch.errors import NotYetPublished, SourceError, TradewatchError
from tradewatch.http import SYNTHETIC_HEADER, HttpTransport, ReplayTransport, Transport
from tradewatch.landing import LandingZone
from tradewatch.periods import Month, add_months, format_month, reference_month
from tradewatch.redact import redact
from tradewatch.settings import Settings
from tradewatch.sources.base import Publisher, SourceClient
from tradewatch.warehouse import connect, load_pending, open_warehouse, reset_datasets
from tradewatch.warehouse import migrate as migrate_warehouse

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


def migrate(settings: Settings) -> dict:
    """The refresh's first task: bring the warehouse's layout up to this version (tradewatch.audit's numbered
    migrations, then the raw and detector tables). A no-op when it is current."""
    with closing(connect(settings.duckdb_path)) as con:  # not open_warehouse: it would migrate without telling
        applied = migrate_warehouse(con)
        version = audit.schema_version(con)
    return {"schema_version": version, "applied": applied}


def plan(settings: Settings, logical_date: str) -> list[dict]:
    """What to fetch in this run, per dataset: the releases from the start month to the reference month that the
    warehouse does not hold, the reference month itself (unchanged bytes are a no-op), and the months the
    publisher revises in this release (Census: the three prior years in June). An annual dataset has releases for
    December only: its year is fetched in the run whose reference month is that December (with Census's lag of
    two months, February's), again when the June release revises it, and otherwise only while it is missing."""
    when = datetime.fromisoformat(logical_date)
    known: set = set()
    if settings.duckdb_path.exists():  # read-only: planning changes nothing and needs no writer slot
        with open_warehouse(settings.duckdb_path, read_only=True) as con:
            known = audit.held_periods(con)
    work = []
    for name, ds in sources.all_datasets().items():
        publisher = sources.publisher_of(name)
        ref = reference_month(when, settings.sources[ds.source].lag_months)
        if ref < settings.start_month:
            raise TradewatchError(f"reference month {format_month(ref)} is before TRADEWATCH_START_MONTH "
                                  f"{format_month(settings.start_month)}")
        revision = publisher.revision_months(ref)
        months = sources.release_periods(name, settings.start_month, ref)
        # the newest release is fetched again in the run whose reference month is one of the dataset's months
        latest = months[-1] if months and ref.month in ds.release_months else None
        if publisher.backfills:
            wanted = [m for m in months if (name, m) not in known or m == latest or m in revision]
        else:  # the publisher serves only what is in force now (USITC's current HTS revision)
            wanted = months[-1:]
        work.append({"dataset": name, "periods": [m.text for m in wanted], "reference_month": ref.text,
                     "as_of": when.date().isoformat()})
        log.info("%s: %d release(s) to fetch, reference month %s", name, len(wanted), format_month(ref))
    return work


def expected_release(settings: Settings, dataset: str, period: str | date) -> date:
    """The day by which `period` of `dataset` is normally published (the publisher's calendar)."""
    publisher = sources.publisher_of(dataset)
    month = Month.of(period)
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
    months = [Month.of(p) for p in periods]
    skipped = [m for m in months if m.month not in ds.release_months]
    if skipped:  # e.g. an annual dataset asked for months other than December: there is nothing to fetch
        log.info("%s has releases for %s only: nothing to fetch for %s", dataset, sources.release_months_text(ds),
                 ", ".join(m.text for m in skipped))
        months = [m for m in months if m not in skipped]
    source = settings.sources[ds.source]
    client = SourceClient(publisher, transport_for(settings, publisher), source.base_url, source.pages)
    zone = LandingZone(settings.landing_dir)
    landed, not_published, late, failures = [], [], [], []
    for index, month in enumerate(months, start=1):
        period = month.text
        try:
            responses = client.fetch_release(ds, month)
        except NotYetPublished as exc:
            not_published.append(period)
            due = expected_release(settings, dataset, month)
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
            release = zone.land(ds.source, dataset, period, responses, synthetic)
        except OSError as exc:  # the disk is full, or the landing folder is not writable
            raise TradewatchError(
                f"cannot land {dataset} {period} in {settings.landing_dir}: {exc.strerror or exc}. Nothing "
                f"half-written is kept and the {len(landed)} release(s) landed before are intact; free space (or "
                "fix the folder's permissions) and run again") from exc
        landed.append(release.release_id)
        if index % 24 == 0 or index == len(months):
            log.info("%s: fetched %d of %d release(s)", dataset, index, len(months))
    if failures:
        raise SourceError(f"{len(failures)} of {len(months)} {dataset} release(s) could not be fetched; the "
                          f"{len(landed)} landed are kept:\n" + "\n".join(failures))
    wait_until = None
    if reference_month in not_published:
        wait_until = release_wait(settings, dataset, reference_month, now or datetime.now())
        if wait_until:
            log.info("%s %s is not out yet; its calendar deadline has not passed: trying again at %s", dataset,
                     reference_month, wait_until)
    return {"dataset": dataset, "landed": len(landed), "not_published": not_published, "late": late,
            "wait_until": wait_until, "skipped": [m.text for m in skipped]}


def release_wait(settings: Settings, dataset: str, period: str, now: datetime) -> str | None:
    """When to look again for a release not out yet: every poll interval until its calendar deadline, then no more
    (past the deadline the run goes on without it and a late-release warning is logged)."""
    due = expected_release(settings, dataset, period)
    if now.date() > due:
        return None
    return min(now + timedelta(hours=settings.release_poll_hours),
               datetime.combine(due + timedelta(days=1), datetime.min.time())).isoformat(timespec="minutes")


def load(settings: Settings, dataset: str) -> dict:
    """Load every landed release of `dataset` that the warehouse does not hold yet (tradewatch.warehouse.load_pending).
    Raises, after loading the good ones, if any release could not be parsed."""
    with open_warehouse(settings.duckdb_path) as con:
        counts, rejected = load_pending(con, LandingZone(settings.landing_dir), dataset)
    log.info("%s: %s", dataset, counts)
    if rejected:
        raise TradewatchError(f"{len(rejected)} {dataset} release(s) could not be loaded and were rejected; "
                              "nothing of them reached raw and everything loaded before is intact:\n"
                              + "\n".join(rejected))
    return {"dataset": dataset, **counts}


def reparse(settings: Settings, datasets: list[str]) -> list[dict]:
    """Parse every landed release of `datasets` again with this version (after a change of their raw layout): drop
    their raw tables and their releases' records (one transaction), load them all from the landing zone and validate
    them. The next build rebuilds the months they cover."""
    if not settings.duckdb_path.exists():
        raise TradewatchError(f"no warehouse at {settings.duckdb_path}: nothing to parse again")
    with closing(connect(settings.duckdb_path)) as con:  # not open_warehouse: its layout check refuses the old tables
        forgotten = reset_datasets(con, datasets)
    return [{"forgotten": n, **load(settings, name), **validate(settings, name)} for name, n in forgotten.items()]


def validate(settings: Settings, dataset: str) -> dict:
    results = quality.validate_pending(settings, dataset)
    return {"dataset": dataset, "published": sum(r.success for r in results)}


def build(settings: Settings, full: bool = False) -> dict:
    """Bring the marts up to what is published (incrementally: only the periods published since the last build),
    then check source freshness (warnings only)."""
    plan, warnings = transform.build(settings, full=full)
    return {"built": plan.mode, "periods": len(plan.periods), "freshness_warnings": warnings}


def scan_anomalies(settings: Settings) -> dict:
    """Scan the series with a changed period since the last scan (every series after a full build; the detector
    writes its findings), then build marts.anomalies from them. The counts are of all the findings."""
    with open_warehouse(settings.duckdb_path) as con:
        anomalies.scan_changed(con, anomalies.rules_from(settings))
        found = anomalies.by_severity(con)
    transform.build_anomalies(settings)
    counts = {s: found.get(s, 0) for s in anomalies.SEVERITIES}
    return {"anomalies": sum(counts.values()), **counts}


def send_alerts(settings: Settings) -> dict:
    """Send the new anomalies to every channel, once each; a channel that is down keeps them pending."""
    with open_warehouse(settings.duckdb_path) as con:
        result = alerts.notify_anomalies(con, settings)
    return {"sent": result.sent, "pending": result.pending, "errors": result.errors}


def publish(settings: Settings) -> dict:
    """After a fully successful refresh: PostgreSQL (if configured), the DuckDB snapshot, Parquet, the report."""
    from tradewatch.serving import publication, report

    result = publication.publish(settings)
    result["report"] = str(report.write(settings))
    return result
