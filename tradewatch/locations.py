"""Where the files that ship with tradewatch are: the dbt project and the Airflow DAGs folder.

A wheel carries them as package data, in `tradewatch/_project/dbt_project` and `tradewatch/_project/dags` (setup.py
copies them there when it builds the wheel), so `pip install .` plus a data directory is a deployment. A checkout
(the editable install of `make venv`, the tests) has no `_project`: it reads them where they live in the repository.
TRADEWATCH_DBT_PROJECT_DIR and TRADEWATCH_DAGS_DIR point the settings elsewhere.

Nothing is ever written here: dbt's target/ and logs go under the data directory (`transform.dbt_env`), Airflow's
files under `<data dir>/airflow`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tradewatch.errors import ConfigurationError

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE = "_project"  # the wheel's folder for them, under the package (setup.py writes it)
Shipped = Literal["dbt_project", "dags"]
VARIABLES: dict[str, str] = {"dbt_project": "TRADEWATCH_DBT_PROJECT_DIR", "dags": "TRADEWATCH_DAGS_DIR"}


def shipped_dir(name: Shipped) -> Path:
    """The installed package's copy of `name`, or the checkout's when tradewatch runs from its repository."""
    installed = PACKAGE_DIR / BUNDLE / name
    if installed.is_dir():
        return installed
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    raise ConfigurationError(f"tradewatch's {name} folder is missing: neither {installed} (an installed package) nor "
                             f"{checkout / name} (a checkout) exists. Reinstall tradewatch with `pip install .` from "
                             f"its repository, or set {VARIABLES[name]} to a copy of the folder")
