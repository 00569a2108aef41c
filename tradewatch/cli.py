"""The `tradewatch` command line."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
import time
from datetime import date

from tradewatch.errors import TradewatchError
from tradewatch.periods import add_months, format_month, parse_month
from tradewatch.settings import get_settings

DAG_ID = "tradewatch_monthly_refresh"
_RUNNING = re.compile(r"\[DAG TEST\] running task <TaskInstance: [\w.]*?\.(\w+) \S+(?: (map_index=\d+))?")
_OWN_LOG = re.compile(r"\[(info|warning|error)\s*\] (.*?)\s+\[(tradewatch[\w.]*)\]")
_STATE = re.compile(r"new_state=(failed|up_for_retry)")


def progress_line(line: str) -> str | None:
    """The lines of Airflow's output a person watching the demo wants: tasks starting, our own messages."""
    if match := _RUNNING.search(line):
        return f"- {match.group(1)}" + (f" [{match.group(2).split('=')[1]}]" if match.group(2) else "")
    if match := _OWN_LOG.search(line):
        level, message = match.group(1), match.group(2)
        return f"    {message}" if level == "info" else f"    {level.upper()}: {message}"
    if match := _STATE.search(line):
        return f"    task {match.group(1).upper().replace('_', ' ')}"
    return None


class _Parser(argparse.ArgumentParser):
    """Bad arguments get one line saying what was wrong (argparse would print the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (`{self.prog} --help` lists the arguments)\n")


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def cmd_sample(args: argparse.Namespace) -> int:
    from tradewatch.sample import write_sample_archive

    settings = get_settings()
    out = args.out or settings.archive_dir
    counts = write_sample_archive(out, args.start, args.end)
    print(f"wrote the SYNTHETIC sample archive to {out}: {counts} files, {args.start:%Y-%m} to {args.end:%Y-%m}")
    return 0


def _demo_logical_date(end: date, lag: int) -> str:
    run_month = add_months(end, lag)
    return f"{format_month(run_month)}-10T06:00:00+00:00"


#: The demo first runs the refresh as it would have run in July 2025 (Census May 2025: the spring shock), then
#: the refresh for the archive's last month, which loads only what is new since.
DEMO_SHOCK_RUN = "2025-07-10T06:00:00+00:00"


def cmd_demo(args: argparse.Namespace) -> int:
    from tradewatch import airflow_local, summary
    from tradewatch.http import ReleaseArchive
    from tradewatch.sample import DEFAULT_END, DEFAULT_START, FORMAT_VERSION, write_sample_archive

    settings = get_settings()
    started = time.monotonic()
    if settings.source_mode != "replay":
        raise TradewatchError("the demo runs on the sample archive: unset TRADEWATCH_SOURCE_MODE or set it to replay")
    version, readme = settings.archive_dir / "FORMAT_VERSION", settings.archive_dir / "README.txt"
    ours = readme.exists() and readme.read_text().startswith("SYNTHETIC sample release archive")
    stale = ours and not (version.exists() and version.read_text().strip() == str(FORMAT_VERSION))
    if not (settings.archive_dir / ReleaseArchive.INDEX).exists() or stale:  # never over an archive of its own
        print(f"writing the SYNTHETIC sample archive to {settings.archive_dir} ...")
        write_sample_archive(settings.archive_dir, DEFAULT_START, DEFAULT_END)
    lag = settings.sources["census"].lag_months
    runs = [args.logical_date] if args.logical_date else [DEMO_SHOCK_RUN, _demo_logical_date(DEFAULT_END, lag)]
    log_path = settings.data_dir / "logs" / "demo_airflow.log"

    def show(line: str) -> None:
        if (text := progress_line(line)) is not None:
            print(text if "ALERT" in text else text[:200], flush=True)

    for number, logical_date in enumerate(runs, start=1):
        reference = format_month(add_months(parse_month(logical_date[:7]), -lag))
        print(f"\n== run {number} of {len(runs)}: the DAG {DAG_ID} with `airflow dags test` for logical date "
              f"{logical_date}\n   (Census reference month {reference}; full Airflow log: {log_path})")
        code = airflow_local.dags_test(settings, DAG_ID, logical_date, log_path, show)
        if code != 0:
            print(f"\nthe DAG run failed (exit {code}); see {log_path}", file=sys.stderr)
            return code
        print(f"\nAlerts after run {number}:")
        print(summary.alerts_summary(settings))
        print(f"\nTop rerouting candidates after run {number}:")
        print(summary.rerouting_summary(settings))
    print("\nWhat the runs loaded, validated and built:")
    print(summary.warehouse_summary(settings))
    snapshot = settings.serving.directory / "tradewatch.duckdb"
    print(f"\nPublished for readers (open these, not the refresh's private {settings.duckdb_path.name}):")
    print(f"  snapshot: {snapshot}\n  parquet:  {settings.serving.directory / 'parquet' / 'current'}")
    print(f"  report:   file://{settings.serving.directory / 'report' / 'index.html'}")
    print("Try:  .venv/bin/python -c \"import duckdb; print(duckdb.connect('"
          f"{snapshot}', read_only=True).sql('select * from marts.trade_balance_monthly "
          "order by period_month desc limit 12'))\"")
    print("      .venv/bin/tradewatch anomalies --since 2025-01")
    print(f"Validation results: {settings.validation_dir}")
    print(f"Demo wall time: {time.monotonic() - started:.0f} s")
    return 0


def cmd_anomalies(args: argparse.Namespace) -> int:
    from tradewatch.anomalies import SEVERITIES
    from tradewatch.sql import table_exists
    from tradewatch.warehouse import open_warehouse

    settings = get_settings()
    allowed = SEVERITIES[SEVERITIES.index(args.severity):]
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        if not table_exists(con, "marts", "anomalies"):
            raise TradewatchError(f"no anomaly scan yet: the warehouse {settings.duckdb_path} has no marts.anomalies; "
                                  "run the refresh first (make demo, or the DAG)")
        rows = con.execute(
            "SELECT period_label, severity, confidence, series_label, method, change_pct, score, likely_cause, "
            "top_contributions FROM marts.anomalies WHERE period_month >= ? AND list_contains(?, severity) "
            "ORDER BY period_month DESC, list_position(['critical', 'warning', 'info'], severity), series_id LIMIT ?",
            [args.since or date(1900, 1, 1), list(allowed), args.limit]).fetchall()
    for when, severity, confidence, label, method, change, score, cause, carried in rows:
        figures = " ".join(f for f in (f"{change:+.1f}% YoY" if change is not None else "",
                                       f"z {score:+.1f}" if score is not None else "") if f)
        low = " (low confidence)" if confidence == "low" else ""
        print(f"{when:<13} {severity:<8} {label} — {method} {figures}{low}\n{'':<23}likely cause: {cause}"
              + (f"\n{'':<23}{carried}" if carried else ""))
    print(f"{len(rows)} anomal{'y' if len(rows) == 1 else 'ies'} shown (marts.anomalies)")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from tradewatch import pipeline, summary
    from tradewatch.notifiers import Alert, channels

    settings = get_settings()
    if args.action == "send":
        print(pipeline.send_alerts(settings))
    elif args.action == "test":
        alert = Alert("test", "test", "warning", "test alert from tradewatch",
                      "test alert from tradewatch: this channel is configured and reachable.")
        failures = 0
        for channel in channels(settings.alerts):
            try:
                channel.send([alert])
                print(f"{channel.name}: delivered")
            except TradewatchError as exc:
                failures += 1
                print(f"{channel.name}: FAILED: {exc}")
        return 1 if failures else 0
    else:
        print(summary.alerts_summary(settings))
    return 0


def _settings_for(args: argparse.Namespace):
    env = dict(os.environ)
    if getattr(args, "live", False):
        env["TRADEWATCH_SOURCE_MODE"] = "live"
    if getattr(args, "replay", None):
        env.update(TRADEWATCH_SOURCE_MODE="replay", TRADEWATCH_ARCHIVE_DIR=str(args.replay))
    return get_settings(env)


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch (and with --load, load and validate) every dataset of a source (or the one named) for a month or a
    range of months: the releases in that range (an annual dataset has one, December's)."""
    from tradewatch import pipeline, sources
    from tradewatch.errors import QualityGateFailed, SourceError

    settings = _settings_for(args)
    publisher = sources.PUBLISHERS[args.source]
    end = args.to or args.period
    if args.dataset and args.dataset not in publisher.datasets:
        raise TradewatchError(f"{args.dataset} is not a dataset of {args.source}; its datasets: "
                              f"{', '.join(publisher.datasets)}")
    failed = 0
    for dataset in [args.dataset] if args.dataset else publisher.datasets:
        months = [format_month(m) for m in sources.release_periods(dataset, args.period, end)]
        if not months:
            only = sources.release_months_text(sources.dataset(dataset))
            print(f"{dataset}: no release from {args.period:%Y-%m} to {end:%Y-%m}"
                  + (f" (it has releases for {only} only)" if only != "every month" else ""), flush=True)
            continue
        for index, month in enumerate(months, start=1):
            try:
                result = pipeline.fetch(settings, dataset, [month])
                state = "not published yet" if result["not_published"] else "landed"
            except SourceError as exc:
                state, failed = f"FAILED: {exc}", failed + 1
            print(f"[{index}/{len(months)}] {dataset} {month}: {state}", flush=True)
        if args.load:
            print(f"{dataset}: {pipeline.load(settings, dataset)}", flush=True)
            try:
                print(f"{dataset}: {pipeline.validate(settings, dataset)}", flush=True)
            except QualityGateFailed as exc:
                print(f"{dataset}: {exc}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


def cmd_build(args: argparse.Namespace) -> int:
    from tradewatch import pipeline

    print(pipeline.build(get_settings(), full=args.full_refresh))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from tradewatch import summary

    print(summary.warehouse_summary(get_settings()))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from tradewatch import pipeline

    result = pipeline.migrate(get_settings())
    applied = ", ".join(str(v) for v in result["applied"]) or "none (it was current)"
    print(f"the warehouse's audit schema is at version {result['schema_version']}; migrations applied: {applied}")
    return 0


def cmd_reparse(args: argparse.Namespace) -> int:
    from tradewatch import pipeline

    for result in pipeline.reparse(get_settings(), args.datasets):
        print(f"{result['dataset']}: {result['forgotten']} release(s) parsed again from the landing zone: "
              f"{result['loaded']} loaded, {result['rejected']} rejected, {result['published']} passed the quality "
              "gate")
    print("Run `tradewatch build` (or wait for the refresh) to rebuild the marts; a quarantined release needs its "
          "decision again (`tradewatch quality list`)")
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from tradewatch import quality
    from tradewatch.audit import releases
    from tradewatch.warehouse import open_warehouse

    settings = get_settings()
    if args.action == "list":
        with open_warehouse(settings.duckdb_path, read_only=True) as con:
            rows = releases(con, status="quarantined")
        for r in rows:
            print(f"{r['release_id']}  {r['dataset']}  {r['period']:%Y-%m}  {r['detail'][:200]}")
        print(f"{len(rows)} quarantined release(s)")
    elif args.action == "release":
        quality.release_quarantined(settings, args.release_id, args.reason, getpass.getuser())
        print(f"released {args.release_id}; `tradewatch build` (or the next refresh) brings it into the marts")
    elif args.action == "docs":
        print(f"Data Docs: {quality.write_docs(settings, restore=True)}  (open it in a browser; works offline)")
    else:
        result = quality.revalidate(settings, args.release_id, getpass.getuser())
        print(f"{args.release_id}: {result.status}")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """A reader's password: from standard input with --password-stdin, else asked twice at the terminal. Never an
    argument or an environment variable (shell history, the process list, logs of the environment)."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("the same again: ") != password:
            raise TradewatchError("the two passwords differ; nothing was changed")
    else:
        raise TradewatchError("give the password on standard input with --password-stdin (e.g. `pass show bi/alice | "
                              "tradewatch serving add-reader alice --password-stdin`), or run in a terminal to be "
                              "asked for it")
    if not password:
        raise TradewatchError("the password is empty; nothing was changed")
    return password


def cmd_serving(args: argparse.Namespace) -> int:
    from tradewatch import pipeline
    from tradewatch.serving import connection, roles

    settings = get_settings()
    if args.action == "publish":
        result = pipeline.publish(settings)
        print(f"published {len(result['marts'])} marts as {result['publication_id']}")
        for key in ("snapshot", "parquet", "report"):
            print(f"  {key}: {result[key]}")
        if "postgres" in result:
            cut = result["postgres"]["cut_sessions"]
            print(f"  PostgreSQL: {result['postgres']['tables']} tables in schema marts"
                  + (f"; cut {len(cut)} reader session(s) that held the live marts (see the log)" if cut else ""))
        return 0
    target = connection.target(settings)
    if target is None:
        raise TradewatchError("TRADEWATCH_SERVING_URL is not set: point it at the PostgreSQL serving database, "
                              "e.g. postgresql://tradewatch:...@localhost:5432/tradewatch_serving")
    if args.action == "init":
        lines = roles.init(target)
    elif args.action == "add-reader":
        lines = roles.add_reader(target, args.name, _new_password(args))
    else:
        lines = roles.remove_reader(target, args.name)
    for line in lines:
        print(line)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tradewatch.serving import report

    path = report.write(get_settings(), Path(args.out) if args.out else None)
    print(f"report: {path}  (open it in a browser: file://{path.resolve()})")
    return 0


def _publisher_names() -> list[str]:
    from tradewatch.sources import PUBLISHERS

    return list(PUBLISHERS)


def build_parser() -> argparse.ArgumentParser:
    from tradewatch.sample import DEFAULT_END, DEFAULT_START

    parser = _Parser(prog="tradewatch", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write the SYNTHETIC sample release archive")
    p.add_argument("--out", help="folder (default: TRADEWATCH_ARCHIVE_DIR or data/sample_archive)")
    p.add_argument("--start", type=_month, default=DEFAULT_START, help="first month, YYYY-MM")
    p.add_argument("--end", type=_month, default=DEFAULT_END, help="last month, YYYY-MM")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("demo", help="run the monthly refresh DAG through Airflow on the sample archive")
    p.add_argument("--logical-date", help="ISO logical date of the run (default: the archive's last month + lag)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("fetch", help="fetch a source's releases for a month or a range (a backfill); --load to "
                                     "load and validate them too")
    p.add_argument("--source", required=True, choices=sorted(_publisher_names()))
    p.add_argument("--dataset", help="only this dataset of the source (e.g. census_imports_hs10_annual)")
    p.add_argument("--period", required=True, type=_month, help="month, YYYY-MM (the first, with --to)")
    p.add_argument("--to", type=_month, help="last month of a backfill, YYYY-MM")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="fetch from the publisher's API (keys from the environment)")
    mode.add_argument("--replay", metavar="DIR", help="replay a release archive (default: the configured one)")
    p.add_argument("--load", action="store_true", help="load into raw and run the quality gate after fetching")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("build", help="bring the marts up to what is published: dbt build of the periods published "
                       "since the last build (what the DAG's build_marts runs)")
    p.add_argument("--full-refresh", action="store_true", help="rebuild every mart from all history")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("summary", help="releases by status and the latest trade balance")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("migrate", help="bring the warehouse's layout up to this version (the audit schema's "
                       "numbered migrations; what the DAG's first task runs)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("reparse", help="parse every landed release of a dataset again with this version (after its "
                       "raw layout changed): drops its raw table and release records, then loads and validates")
    p.add_argument("datasets", nargs="+", metavar="dataset", help="the dataset(s), e.g. census_imports_hs")
    p.set_defaults(func=cmd_reparse)

    p = sub.add_parser("anomalies", help="list the anomalies found in the marts (marts.anomalies)")
    p.add_argument("--since", type=_month, help="first month to show, YYYY-MM")
    p.add_argument("--severity", choices=["info", "warning", "critical"], default="warning",
                   help="the least severity shown (default warning)")
    p.add_argument("--limit", type=_positive, default=40, help="at most this many (default 40)")
    p.set_defaults(func=cmd_anomalies)

    p = sub.add_parser("alerts", help="alert channels: list what was sent, send what is pending, test the channels")
    p.add_argument("action", choices=["list", "send", "test"])
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("serving", help="the serving outputs: init (PostgreSQL schema and read-only roles, "
                                       "idempotent), publish (snapshot, Parquet, PostgreSQL, report now), add-reader "
                                       "NAME / remove-reader NAME (a read-only login per BI user)")
    p.add_argument("action", choices=["init", "publish", "add-reader", "remove-reader"])
    p.add_argument("name", nargs="?", help="the reader login (add-reader, remove-reader)")
    p.add_argument("--password-stdin", action="store_true",
                   help="add-reader: read the password from standard input (otherwise asked at the terminal)")
    p.set_defaults(func=cmd_serving)

    p = sub.add_parser("report", help="write the static HTML report (works offline)")
    p.add_argument("--out", help="file to write (default: TRADEWATCH_SERVING_DIR/report/index.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("quality", help="quarantined releases: list, release with a reason, or re-validate; docs: "
                                       "rewrite the Data Docs index (every validation) and make every page offline")
    p.add_argument("action", choices=["list", "release", "revalidate", "docs"])
    p.add_argument("release_id", nargs="?")
    p.add_argument("--reason", help="why a quarantined release may be published anyway (required for release)")
    p.set_defaults(func=cmd_quality)
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot check by itself."""

    def refuse(message: str) -> None:
        parser.exit(2, f"tradewatch {args.command}: {message}\n")

    action = getattr(args, "action", None)
    if args.command == "quality" and action in ("release", "revalidate") and not args.release_id:
        refuse(f"{action} needs a RELEASE_ID")
    if args.command == "serving" and action in ("add-reader", "remove-reader") and not args.name:
        refuse(f"{action} needs the NAME of the reader login")
    if args.command == "serving" and action not in ("add-reader", "remove-reader") and args.name:
        refuse(f"{action} takes no NAME")
    if args.command == "fetch" and args.to and args.to < args.period:
        refuse(f"--to {args.to:%Y-%m} is before --period {args.period:%Y-%m}: nothing to fetch; give the first "
               "month with --period and the last with --to")
    if args.command == "sample" and args.end < args.start:
        refuse(f"--end {args.end:%Y-%m} is before --start {args.start:%Y-%m}: the archive would be empty")


def _secrets() -> list[str]:
    try:
        return get_settings().secrets
    except TradewatchError:
        return []


def main(argv: list[str] | None = None) -> int:
    """Run a command. Every failure the user can act on is one line on stderr and a non-zero exit, never a
    traceback; an unexpected error is one line too (with --verbose, its traceback, secrets masked)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _check(parser, args)
    try:
        return args.func(args)
    except TradewatchError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system: a folder that does not exist, a full disk, no permission
        where = f": {exc.filename}" if exc.filename else ""
        print(f"tradewatch: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tradewatch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, and never a secret
        from tradewatch.redact import redact

        secrets = _secrets()
        if args.verbose:
            import traceback

            print(redact("".join(traceback.format_exception(exc)), secrets), file=sys.stderr, end="")
        print(f"tradewatch: unexpected {type(exc).__name__}: {redact(' '.join(str(exc).split()), secrets)[:500]} "
              "(run again with --verbose for the traceback; please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
