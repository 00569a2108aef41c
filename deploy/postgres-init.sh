#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is first created (docker-entrypoint-initdb.d): the Airflow metadata database
# and, as a database of its own, the serving database owned by a role that may create the read-only reader role.
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?}" "${SERVING_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v serving_pw="$SERVING_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE tradewatch LOGIN CREATEROLE PASSWORD :'serving_pw';
CREATE DATABASE tradewatch_serving OWNER tradewatch;
SQL
