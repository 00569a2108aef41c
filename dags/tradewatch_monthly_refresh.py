"""
### tradewatch monthly refresh

Bring the warehouse's audit layout up to date (migrate), fetch the month's official releases (live, or replayed
from the release archive), land the raw bytes, load them into `raw` as pending vintages, validate them with their
Great Expectations suites (write, audit, publish), rebuild the dbt marts, scan the series with a changed month for
anomalies (every series after a full build; dbt then builds marts.anomalies from the findings), send the new
ones to the alert channels once (one message per channel, grouped into stories), publish the marts for readers
(DuckDB snapshot, Parquet, PostgreSQL, HTML report) only after all of that succeeded, and log a summary of the
run (what was loaded, validated and built; where the snapshot and the report are).
The reference month comes from the run's logical date and the publisher's lag, never from the wall clock;
months missing since TRADEWATCH_START_MONTH are filled in the same run.

Every task body is one call into the `tradewatch` package. Writers share the one-slot `duckdb_writer` pool.
No Asset is emitted: publishing is a task of this DAG, after the gate and the anomaly scan, and nothing outside it
schedules on the marts (a DAG triggered by the rebuilt marts would publish before the scan; see docs/decisions.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task
from tradewatch_dags.defaults import SOURCE_TAGS, WAREHOUSE_QUEUE, WAREHOUSE_WRITER_POOL, default_args

from tradewatch.settings import refresh_cron


@dag(
    dag_id="tradewatch_monthly_refresh",
    schedule=refresh_cron(),  # TRADEWATCH_REFRESH_CRON, default the 10th at 06:00 UTC
    start_date=datetime(2017, 1, 1, tzinfo=UTC),  # before any month we load: backfills may run from here
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["tradewatch", "refresh", *SOURCE_TAGS],
    doc_md=__doc__,
)
def tradewatch_monthly_refresh():  # noqa: C901 (one nested function per task is the TaskFlow form)
    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def migrate() -> dict:
        from tradewatch import pipeline
        from tradewatch.settings import get_settings

        return pipeline.migrate(get_settings())

    @task  # reads the warehouse read-only: no writer slot
    def plan(logical_date=None) -> list[dict]:
        from tradewatch import pipeline
        from tradewatch.settings import get_settings

        return pipeline.plan(get_settings(), logical_date.isoformat())

    @task
    def fetch(work: dict) -> dict:
        from datetime import datetime

        from airflow.sdk.exceptions import AirflowRescheduleException

        from tradewatch import pipeline
        from tradewatch.settings import get_settings

        result = pipeline.fetch(get_settings(), work["dataset"], work["periods"], work["as_of"],
                                work["reference_month"])
        if result["wait_until"]:  # due but not out yet: look again later instead of failing the run
            raise AirflowRescheduleException(datetime.fromisoformat(result["wait_until"]).astimezone())
        return result

    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def load(fetched: dict) -> dict:
        from tradewatch import pipeline
        from tradewatch.settings import get_settings

        return pipeline.load(get_settings(), fetched["dataset"])

    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def validate(loaded: dict) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from tradewatch import pipeline
        from tradewatch.airflow_connections import airflow_connection
        from tradewatch.errors import QualityGateFailed
        from tradewatch.settings import get_settings

        try:
            return pipeline.validate(get_settings(connections=airflow_connection), loaded["dataset"])
        except QualityGateFailed as exc:  # deterministic: fail now, do not retry
            raise AirflowFailException(str(exc)) from exc

    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def build_marts(validated: list[dict]) -> dict:
        from tradewatch import pipeline
        from tradewatch.settings import get_settings

        return pipeline.build(get_settings())

    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def scan_anomalies(built: dict) -> dict:
        from tradewatch import pipeline
        from tradewatch.settings import get_settings

        return pipeline.scan_anomalies(get_settings())

    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def send_alerts(scanned: dict) -> dict:
        from tradewatch import pipeline
        from tradewatch.airflow_connections import airflow_connection
        from tradewatch.settings import get_settings

        return pipeline.send_alerts(get_settings(connections=airflow_connection))

    @task(pool=WAREHOUSE_WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def publish(scanned: dict) -> dict:
        from tradewatch import pipeline
        from tradewatch.airflow_connections import airflow_connection
        from tradewatch.settings import get_settings

        return pipeline.publish(get_settings(connections=airflow_connection))

    @task
    def log_summary(published: dict, alerted: dict) -> str:
        from tradewatch import summary
        from tradewatch.settings import get_settings

        text = summary.warehouse_summary(get_settings())
        print(text)
        print(f"published {published['publication_id']}: snapshot {published['snapshot']}, report "
              f"{published['report']}")
        return text

    work = plan()
    migrate() >> work  # the layout is current before anything reads it
    fetched = fetch.expand(work=work)
    validated = validate.expand(loaded=load.expand(fetched=fetched))
    scanned = scan_anomalies(build_marts(validated))
    log_summary(publish(scanned), send_alerts(scanned))


tradewatch_monthly_refresh()
