"""tradewatch: a warehouse that follows the US-China trade conflict from official releases.

The package runs without Airflow: every DAG task (dags/) is one call into a module here, and the command line
(`tradewatch`) calls the same functions. docs/architecture.md has the flow, which module owns which table and
concept, and the import rules tests/unit/test_architecture.py enforces.
"""

__version__ = "0.1.0"
