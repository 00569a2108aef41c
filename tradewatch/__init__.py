"""tradewatch: a warehouse that follows the US-China trade conflict from official releases.

The package knows nothing about Airflow: every DAG task is one call into a module here.
"""

__version__ = "0.1.0"
