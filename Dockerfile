# The project image: the exact versions of requirements.lock, the package, the DAGs, the dbt project and the
# deployment scripts. docker-compose.yml runs every Airflow process from it; `docker run IMAGE` runs the demo.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends make curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 50000 --create-home --home-dir /home/tradewatch tradewatch \
 && mkdir -p /data /opt/airflow/logs /opt/airflow/auth \
 && chown -R tradewatch /data /opt/airflow

WORKDIR /opt/tradewatch
COPY requirements.lock ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.lock

COPY . .
RUN .venv/bin/pip install --no-cache-dir --no-deps -e . && touch .venv/.installed \
 && chown -R tradewatch /opt/tradewatch/dbt_project

ENV PATH=/opt/tradewatch/.venv/bin:$PATH \
    TRADEWATCH_DATA_DIR=/data \
    AIRFLOW_HOME=/opt/airflow \
    GX_ANALYTICS_ENABLED=false
USER tradewatch
VOLUME /data
CMD ["tradewatch", "demo"]
