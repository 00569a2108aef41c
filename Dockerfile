# The project image: the exact versions of requirements.lock, the package, the DAGs and the dbt project.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/tradewatch
COPY requirements.lock ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.lock

COPY . .
RUN .venv/bin/pip install --no-cache-dir --no-deps -e . && touch .venv/.installed

ENV PATH=/opt/tradewatch/.venv/bin:$PATH \
    TRADEWATCH_DATA_DIR=/data \
    GX_ANALYTICS_ENABLED=false
VOLUME /data
ENTRYPOINT ["tradewatch"]
CMD ["demo"]
