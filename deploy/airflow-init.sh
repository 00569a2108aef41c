#!/usr/bin/env bash
# One-shot initialisation of the Airflow deployment (the compose service airflow-init, and the multi-process test):
# migrate the metadata database, the admin login from the environment, the warehouse pool, the serving database.
# Idempotent: safe to run on every `docker compose up`.
set -euo pipefail

: "${AIRFLOW_ADMIN_USERNAME:?set AIRFLOW_ADMIN_USERNAME (in .env)}"
: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD (in .env)}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?the compose file sets it}"

echo "airflow-init: migrating the metadata database"
airflow db migrate

echo "airflow-init: admin login ${AIRFLOW_ADMIN_USERNAME} (simple auth manager)"
mkdir -p "$(dirname "$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")"
python - <<'PY'
import json, os
path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
with open(path, "w") as handle:
    json.dump({os.environ["AIRFLOW_ADMIN_USERNAME"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, handle)
os.chmod(path, 0o600)
PY

echo "airflow-init: pool duckdb_writer (DuckDB has one writer)"
airflow pools set duckdb_writer 1 "DuckDB has one writer: every task that writes the warehouse"

if [ -n "${TRADEWATCH_SERVING_URL:-}" ]; then
  echo "airflow-init: serving database (schema marts, read-only role)"
  tradewatch serving init
fi

mkdir -p "${TRADEWATCH_DATA_DIR:-/data}"
if [ "${TRADEWATCH_SOURCE_MODE:-replay}" = replay ] && [ -z "${TRADEWATCH_ARCHIVE_DIR:-}" ] \
   && [ ! -f "${TRADEWATCH_DATA_DIR:-/data}/sample_archive/index.json" ]; then
  echo "airflow-init: replay mode: writing the SYNTHETIC sample archive"
  tradewatch sample
fi
echo "airflow-init: done"
