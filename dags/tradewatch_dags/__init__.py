"""Shared wiring for the tradewatch DAGs: default_args, pools, queues and the failure callback.

Airflow puts the DAGs folder on `sys.path`, so this folder is imported as a top-level package: its name carries
the project's prefix so it can never shadow (or be shadowed by) another `common` on a worker's path.
Constants only at import time.
"""
