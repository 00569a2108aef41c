# The project image: the exact versions of requirements.lock, the tradewatch wheel (the package with its dbt project
# and DAGs, see setup.py) and the deployment scripts; no source tree. docker-compose.yml runs every Airflow process
# from it; `docker run IMAGE` runs the demo.
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY tradewatch tradewatch
COPY expectations expectations
COPY dbt_project dbt_project
COPY dags dags
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 50000 --create-home --home-dir /home/tradewatch tradewatch \
 && mkdir -p /data /opt/airflow/logs /opt/airflow/auth \
 && chown -R tradewatch /data /opt/airflow

WORKDIR /opt/tradewatch
COPY requirements.lock ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.lock

# The package; ./dags links to its DAGs folder (docker-compose.yml's AIRFLOW__CORE__DAGS_FOLDER)
COPY --from=wheel /wheels /tmp/wheels
RUN .venv/bin/pip install --no-cache-dir --no-deps /tmp/wheels/tradewatch-*.whl && rm -rf /tmp/wheels \
 && ln -s "$(.venv/bin/python -c 'from tradewatch.locations import shipped_dir; print(shipped_dir("dags"))')" dags
COPY deploy deploy

ENV PATH=/opt/tradewatch/.venv/bin:$PATH \
    TRADEWATCH_DATA_DIR=/data \
    AIRFLOW_HOME=/opt/airflow \
    GX_ANALYTICS_ENABLED=false
USER tradewatch
WORKDIR /data
VOLUME /data
CMD ["tradewatch", "demo"]
