"""default_args factory, pool and queue names shared by every tradewatch DAG."""

from __future__ import annotations

from datetime import timedelta

#: DuckDB allows one writer: every task that writes the warehouse runs in this one-slot pool ...
WAREHOUSE_WRITER_POOL = "duckdb_writer"
#: ... and, under the CeleryExecutor, on this queue, which one single-slot worker with the warehouse volume serves.
WAREHOUSE_QUEUE = "warehouse"
OWNER = "tradewatch"
#: One tag per publisher the refresh fetches (the registry `tradewatch.sources.PUBLISHERS`, written out so parsing
#: the DAG imports no publisher code; tests/dags checks the two agree).
SOURCE_TAGS = ("census", "gacc", "comtrade", "bls", "nbs", "usitc")


def on_task_failure(context) -> None:
    """Task-level failure callback (DAG-level callbacks are unreliable under Airflow 3's scheduler)."""
    from tradewatch.airflow_connections import airflow_connection
    from tradewatch.alerts import task_failed
    from tradewatch.settings import get_settings

    ti = context["ti"]
    task_failed(ti.dag_id, ti.task_id, context.get("run_id", ""), getattr(ti, "map_index", None),
                context.get("exception"), getattr(ti, "try_number", None),
                settings=get_settings(connections=airflow_connection))


def default_args(*, retries: int = 2, retry_delay: timedelta = timedelta(minutes=5)) -> dict:
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=2),
        "on_failure_callback": on_task_failure,
    }
