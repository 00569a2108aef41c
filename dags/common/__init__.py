"""Shared wiring for the DAGs: default_args, pools, assets and callbacks. Constants only at import time."""
