"""UN Comtrade v1: China (156) reporting its trade by HS chapter and for the basket HS6 codes.

Comtrade republishes what national offices submit, weeks to months after them. With a key (COMTRADE_API_KEY,
sent as the `Ocp-Apim-Subscription-Key` header) the data endpoint is used; without one, the public preview, which
returns at most 500 records a call, so every request here is sized to stay below that: HS2 one partner at a time,
then TOTAL and the basket HS6 codes for every followed partner together. A result with as many
records as the cap is refused as possibly cut. `partner2Code=0`, `customsCode=C00` and `motCode=0` are pinned, or
rows multiply. Values are JSON numbers in US dollars; `primaryValue` is CIF for imports and FOB for exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tradewatch.errors import BrokenResponse, NotYetPublished, ReleaseFormatError, RequestRejected
from tradewatch.http import Request, Response
from tradewatch.periods import Month, add_months
from tradewatch.sources.base import (
    EVERY_MONTH,
    ApiKey,
    PlainRequests,
    Publisher,
    ReleaseCalendar,
    check_complete_json,
    check_http_answer,
    json_document,
)

SOURCE = "comtrade"
BASE_URL = "https://comtradeapi.un.org/public/v1/preview"  # no key: at most 500 records a call
KEYED_BASE_URL = "https://comtradeapi.un.org/data/v1/get"  # with COMTRADE_API_KEY
CHINA = 156
PARTNERS = {842: "USA", 0: "WLD", 704: "VNM", 484: "MEX", 344: "HKG"}
#: The HS6 lines fetched for China's side of the commodity baskets (dbt_project/seeds/commodity_baskets.csv, every
#: six-digit line it names, and the main lines under some of its four-digit codes) and of the rerouting monitor (its
#: China-side evidence: the sample's planted lines, sample/census.py REROUTED). tests/unit/test_comtrade.py fails when
#: the seed or the planted lines name a line missing here. Comtrade answers in the classification China reported
#: (HS 2017 to 2021, HS 2022 since), so the lines of both vintages are asked for and only one answers in a month.
BASKET_HS6 = (
    "280530", "284690",  # rare earths: the metals; compounds (2846)
    "850511",  # magnets
    "854231", "854232",  # semiconductors: processors and memories (8542)
    "854110", "854121", "854129", "854130", "854160", "854190",  # semiconductors: discretes, piezo crystals, parts
    "854150",  # semiconductors: other devices, HS 2017 (split into 854151 and 854159 in HS 2022)
    "854141", "854149", "854151", "854159",  # semiconductors: LEDs, other photosensitive, transducers, other (HS 2022)
    "854140",  # solar cells: photosensitive devices with PV cells and LEDs, HS 2017 (854141-854149 in HS 2022)
    "854142", "854143",  # solar cells: PV cells, and modules or panels (HS 2022)
    "848620",  # chip equipment (8486)
    "851712",  # smartphones until HS 2022 (telephones for cellular networks): China's phones before 2022
    "851713",  # smartphones (HS 2022)
    "847130",  # laptops (and the rerouting monitor's laptops to Mexico)
    "870380",  # electric vehicles (also the only line of passenger cars, 8703, fetched)
    "890190",  # ships (8901)
    "841810", "845011",  # home appliances: refrigerator-freezers (8418), washing machines (8450); both rerouted in 2018
    "842211",  # home appliances: household dishwashers
    "120190",  # soybeans (1201)
    "880240",  # aircraft (8802)
    "950300",  # toys
)
PREVIEW_CAP = 500
#: (part name, partner codes, cmdCode): HS2 one partner a call (2 flows x ~97 chapters < 500 records), TOTAL and
#: the basket lines of every partner together (5 partners x 2 flows: 10 and 310 records).
PARTS = (
    *((f"{iso.lower()}_hs2", (code,), "AG2") for code, iso in PARTNERS.items()),
    ("partner_totals", tuple(PARTNERS), "TOTAL"),
    ("baskets", tuple(PARTNERS), ",".join(BASKET_HS6)),
)
_FIELDS = {
    "period": "VARCHAR", "reporterCode": "INTEGER", "partnerCode": "INTEGER", "partner2Code": "INTEGER",
    "flowCode": "VARCHAR", "cmdCode": "VARCHAR", "aggrLevel": "INTEGER", "classificationCode": "VARCHAR",
    "customsCode": "VARCHAR", "motCode": "INTEGER", "primaryValue": "DOUBLE", "cifvalue": "DOUBLE",
    "fobvalue": "DOUBLE", "netWgt": "DOUBLE", "qty": "DOUBLE", "qtyUnitAbbr": "VARCHAR", "isReported": "BOOLEAN",
    "isAggregate": "BOOLEAN",
}


@dataclass(frozen=True)
class ComtradeDataset:
    name: str
    headline_var: str = "primary_value"
    source: str = SOURCE
    release_months: tuple[int, ...] = EVERY_MONTH

    @property
    def data_columns(self) -> tuple[tuple[str, str], ...]:
        return (("period", "DATE"), ("reporter_code", "INTEGER"), ("partner_code", "INTEGER"),
                ("partner_iso3", "VARCHAR"), ("flow_code", "VARCHAR"), ("cmd_code", "VARCHAR"),
                ("aggr_level", "INTEGER"), ("classification_code", "VARCHAR"), ("primary_value", "DECIMAL(20,3)"),
                ("cif_value", "DECIMAL(20,3)"), ("fob_value", "DECIMAL(20,3)"), ("net_weight_kg", "DOUBLE"),
                ("qty", "DOUBLE"), ("qty_unit", "VARCHAR"), ("is_reported", "BOOLEAN"), ("is_aggregate", "BOOLEAN"))


CN_MONTHLY = ComtradeDataset("comtrade_cn_monthly")
DATASETS: dict[str, ComtradeDataset] = {CN_MONTHLY.name: CN_MONTHLY}


def release_requests(base_url: str, ds: ComtradeDataset, period: date) -> list[tuple[str, Request]]:
    requests = []
    for name, partners, commodities in PARTS:
        params = (("reporterCode", str(CHINA)), ("partnerCode", ",".join(str(p) for p in partners)),
                  ("partner2Code", "0"), ("flowCode", "X,M"), ("period", f"{period:%Y%m}"),
                  ("cmdCode", commodities), ("customsCode", "C00"), ("motCode", "0"),
                  ("maxRecords", str(PREVIEW_CAP)), ("includeDesc", "false"))
        requests.append((name, Request(f"{base_url}/C/M/HS", params)))
    return requests


def revision_months(reference: date) -> set[Month]:
    """Comtrade reloads data when reporters revise; the previous three months are fetched again each run."""
    return {add_months(reference, -k) for k in (1, 2, 3)}


def check_response(response: Response, what: str, period: date | None = None) -> None:
    check_http_answer(response, what, PUBLISHER, base_url_variable="TRADEWATCH_COMTRADE_BASE_URL")
    check_complete_json(response, what, "{", b"}")
    document = json_document(response, what)
    error = document.get("error") or (document.get("errorObject") or {}).get("errorMessage")
    if error:
        raise RequestRejected(f"{what}: Comtrade answered with an error: {str(error)[:300]}", url=response.url,
                              status=response.status)
    data = document.get("data")
    if not isinstance(data, list):
        raise BrokenResponse(f"{what}: no data array in the answer", url=response.url, status=response.status)
    if not data:
        raise NotYetPublished(f"{what}: Comtrade holds no data for this month yet (count 0). China's monthly data "
                              "reach Comtrade weeks to months after GACC publishes them", url=response.url,
                              status=response.status)
    if len(data) >= PREVIEW_CAP:
        raise BrokenResponse(f"{what}: {len(data)} records, the preview cap: the answer may be cut. Set "
                             "COMTRADE_API_KEY or split the request further", url=response.url,
                             status=response.status)


def read_records(con: duckdb.DuckDBPyConnection, path: Path, what: str, table: str = "_comtrade_part") -> None:
    """Load the `data` records of a Comtrade answer (monthly or annual) into the temp table `table`."""
    record = ", ".join(f'"{k}" {t}' for k, t in _FIELDS.items())
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT unnest(\"data\", recursive := true) FROM "
            f"read_json(?, format='unstructured', records=true, columns={{'data': 'STRUCT({record})[]'}})",
            [str(path)])
    except duckdb.Error as exc:
        raise ReleaseFormatError(f"{what}: not a Comtrade answer ({exc})") from None
    missing = con.execute(f'SELECT count(*) FROM {table} WHERE "period" IS NULL OR "partnerCode" IS NULL OR '
                          '"flowCode" IS NULL OR "cmdCode" IS NULL OR "primaryValue" IS NULL').fetchall()[0][0]
    if missing:
        raise ReleaseFormatError(f"{what}: schema drift or blanks: {missing} record(s) without period, partner, "
                                 "flow, commodity or primaryValue")


def stage_part(con: duckdb.DuckDBPyConnection, path: Path, ds: ComtradeDataset, part: str, what: str,
               period: date) -> str:
    """Parse one landed Comtrade answer in DuckDB; return SQL selecting the raw table's data columns."""
    read_records(con, path, what)
    annual = con.execute("SELECT count(*) FROM _comtrade_part WHERE NOT regexp_full_match(\"period\", "
                         "'[0-9]{6}')").fetchall()[0][0]
    if annual:
        raise ReleaseFormatError(f"{what}: {annual} record(s) are not monthly (period is not YYYYMM)")
    partners = " ".join(f"WHEN {code} THEN '{iso}'" for code, iso in PARTNERS.items())  # constants
    return (
        "SELECT make_date(CAST(substr(\"period\", 1, 4) AS INTEGER), CAST(substr(\"period\", 5, 2) AS INTEGER), 1) "
        f"AS period, \"reporterCode\" AS reporter_code, \"partnerCode\" AS partner_code, CASE \"partnerCode\" "
        f"{partners} END AS partner_iso3, \"flowCode\" AS flow_code, \"cmdCode\" AS cmd_code, "
        "\"aggrLevel\" AS aggr_level, \"classificationCode\" AS classification_code, "
        "CAST(\"primaryValue\" AS DECIMAL(20,3)) AS primary_value, CAST(cifvalue AS DECIMAL(20,3)) AS cif_value, "
        "CAST(fobvalue AS DECIMAL(20,3)) AS fob_value, \"netWgt\" AS net_weight_kg, qty, "
        "\"qtyUnitAbbr\" AS qty_unit, \"isReported\" AS is_reported, \"isAggregate\" AS is_aggregate "
        "FROM _comtrade_part WHERE coalesce(\"partner2Code\", 0) = 0 AND coalesce(\"customsCode\", 'C00') = 'C00' "
        "AND coalesce(\"motCode\", 0) = 0"
    )


PUBLISHER = Publisher(
    name=SOURCE, title="UN Comtrade", datasets=DATASETS,
    key=ApiKey(variable="COMTRADE_API_KEY",
               signup="https://comtradedeveloper.un.org/ (free 'comtrade - v1' product)",
               param="Ocp-Apim-Subscription-Key", location="headers", required=False),
    base_url=BASE_URL,
    keyed_base_url=KEYED_BASE_URL,
    calendar=ReleaseCalendar(months_after=4, day=1),  # China's months reach Comtrade with months of lag
    revision_months=revision_months,
    fetch=PlainRequests(release_requests),
    check_response=check_response,
    stage_part=stage_part,
)
