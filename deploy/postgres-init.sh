#!/usr/bin/env bash
# Runs once, when the PostgreSQL volume is first created (docker-entrypoint-initdb.d): the Airflow metadata database
# and, as a database of its own, the serving database owned by a role that may create the read-only reader roles.
# The other databases admit only the roles that need them, so the serving readers can connect to theirs alone
# (`tradewatch serving init` cannot do this: only the owner of a database may revoke PUBLIC's CONNECT on it).
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?}" "${SERVING_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v serving_pw="$SERVING_DB_PASSWORD" <<'SQL'
-- the passwords below are in these statements: should one fail, the server must not log the statement
SET log_min_error_statement = panic;
SET log_statement = none;
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE tradewatch LOGIN CREATEROLE PASSWORD :'serving_pw';
CREATE DATABASE tradewatch_serving OWNER tradewatch;
REVOKE CONNECT, TEMPORARY ON DATABASE airflow FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
SQL
