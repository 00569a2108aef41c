"""Alert delivery: exact payloads to a local webhook, Slack-compatible receiver and SMTP server on 127.0.0.1; sent
once across runs; a receiver that is down leaves the refresh green and the alert pending; task failures notify;
no secret in any message."""

from __future__ import annotations

import email
import json
from datetime import date, datetime
from email import policy
from types import SimpleNamespace

import pytest

from tests.conftest import Reply, free_port, make_settings
from tradewatch import alerts
from tradewatch.anomalies import ANOMALIES_DDL
from tradewatch.errors import ConfigurationError
from tradewatch.notifiers import EmailChannel, SlackChannel, WebhookChannel, airflow_connection, channels
from tradewatch.warehouse import open_warehouse

QUERY = "SELECT * FROM marts.anomalies WHERE anomaly_id = 'a1b2c3d4e5f60718'"
TEXT = ("US imports from China (US-reported) fell 36.6% year on year in May 2025. $23.40bn a month against $33.10bn "
        "expected; robust z -4.8. Largest fall since Feb 2020. Anomalous for 2 periods in a row. Likely cause: "
        "2025-04-10 US EO 14266 (China 125%) (84% -> 125%). See: " + QUERY)
TITLE = "US imports from China (US-reported) fell 36.6% year on year in May 2025"
FIELDS = {"anomaly_id": "a1b2c3d4e5f60718", "series_id": "total:USA:CHN:import",
          "series_label": "US imports from China (US-reported)", "period_month": "2025-05-01",
          "period_label": "May 2025", "method": "yoy+robust_z", "observed": 23.4e9, "expected": 33.1e9,
          "change_pct": -36.57, "score": -4.8, "confidence": "normal",
          "likely_cause": "2025-04-10 US EO 14266 (China 125%) (84% -> 125%)", "likely_cause_event_id": "US-2025-30",
          "events": "2025-04-09 US EO 14259; 2025-04-10 US EO 14266", "query": QUERY, "is_synthetic": False,
          "largest_fall_since": "2020-02-01"}


def _row(anomaly_id, period, severity="critical", last=date(2025, 5, 1), **kw):
    row = {"anomaly_id": anomaly_id, "series_id": "total:USA:CHN:import", "domain": "total",
           "series_label": "US imports from China (US-reported)", "reporter_iso3": "USA", "partner_iso3": "CHN",
           "flow": "import", "code": "TOTAL", "period_month": period, "months_in_period": 1,
           "period_label": "May 2025", "category": "economic", "method": "yoy+robust_z", "unit": "usd",
           "observed": 23.4e9, "expected": 33.1e9, "change_pct": -36.57, "score": -4.8, "confidence": "normal",
           "severity": severity, "is_material": severity != "info", "share_of_bilateral_pct": None,
           "consecutive_months": 2, "largest_fall_since": date(2020, 2, 1), "lowest_since": None,
           "history_start": date(2017, 1, 1), "likely_cause": "2025-04-10 US EO 14266 (China 125%) (84% -> 125%)",
           "likely_cause_event_id": "US-2025-30", "events": "2025-04-09 US EO 14259; 2025-04-10 US EO 14266",
           "query": f"SELECT * FROM marts.anomalies WHERE anomaly_id = '{anomaly_id}'", "series_last_period": last,
           "is_synthetic": False, "detected_at": datetime(2025, 7, 10, 6)}
    row.update(kw)
    return row


def write_anomalies(settings, rows):
    with open_warehouse(settings.duckdb_path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("DROP TABLE IF EXISTS marts.anomalies")
        con.execute(ANOMALIES_DDL)
        for row in rows:
            con.execute(f"INSERT INTO marts.anomalies VALUES ({', '.join('?' * len(row))})", list(row.values()))


ROWS = [_row("a1b2c3d4e5f60718", date(2025, 5, 1)),
        _row("0000000000000old", date(2024, 1, 1), period_label="Jan 2024"),  # history: stored, never paged
        _row("00000000000small", date(2025, 5, 1), severity="info", series_id="chapter:05")]


def notify(settings):
    with open_warehouse(settings.duckdb_path) as con:
        return alerts.notify_anomalies(con, settings)


def statuses(settings):
    with open_warehouse(settings.duckdb_path, read_only=True) as con:
        return con.execute("SELECT alert_key, channel, status, attempts, last_error FROM audit.alerts "
                           "ORDER BY ALL").fetchall()


def test_webhook_and_slack_receive_the_exact_payloads(tmp_path, fake_publisher):
    hook, slack = fake_publisher(Reply(200, b"ok")), fake_publisher(Reply(200, b"ok"))
    settings = make_settings(tmp_path, TRADEWATCH_ALERT_WEBHOOK_URL=f"{hook.base_url}/hooks/tradewatch",
                             TRADEWATCH_ALERT_WEBHOOK_TOKEN="tok-123",
                             TRADEWATCH_ALERT_SLACK_WEBHOOK_URL=f"{slack.base_url}/services/T000/B000/XXXX")
    write_anomalies(settings, ROWS)
    result = notify(settings)
    assert result.sent == {"log": 1, "webhook": 1, "slack": 1} and result.pending == {}

    assert hook.requests == ["/hooks/tradewatch"]
    assert hook.headers_seen[0]["Authorization"] == "Bearer tok-123"
    assert hook.headers_seen[0]["Content-Type"] == "application/json"
    assert json.loads(hook.bodies[0]) == {
        "source": "tradewatch", "summary": f"tradewatch: {TITLE}", "count": 1,
        "alerts": [{"key": "a1b2c3d4e5f60718", "kind": "anomaly", "severity": "critical", "title": TITLE,
                    "message": TEXT, **FIELDS}]}

    assert slack.requests == ["/services/T000/B000/XXXX"]
    assert json.loads(slack.bodies[0]) == {
        "text": f"tradewatch: {TITLE}",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": f"tradewatch: {TITLE}"}},
                   {"type": "section", "text": {"type": "mrkdwn", "text": f"[CRITICAL] {TEXT}"}}]}


def test_email_goes_through_a_local_smtp_server(tmp_path, smtp_server):
    settings = make_settings(tmp_path, TRADEWATCH_SMTP_HOST="127.0.0.1", TRADEWATCH_SMTP_PORT=str(smtp_server.port),
                             TRADEWATCH_SMTP_STARTTLS="false", TRADEWATCH_ALERT_EMAIL_FROM="tw@example.org",
                             TRADEWATCH_ALERT_EMAIL_TO="desk@example.org, risk@example.org")
    write_anomalies(settings, ROWS)
    assert notify(settings).sent == {"log": 1, "email": 1}
    (sender, recipients, raw), = smtp_server.mails
    assert sender == "tw@example.org" and recipients == ["desk@example.org", "risk@example.org"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == f"tradewatch: {TITLE}"
    assert message["To"] == "desk@example.org, risk@example.org"
    assert message.get_content().replace("\r\n", "\n") == f"[CRITICAL] {TEXT}\n\n-- tradewatch\n"


def test_each_anomaly_is_sent_once_across_runs_and_rescans(tmp_path, fake_publisher):
    hook = fake_publisher(Reply(200, b"ok"))
    settings = make_settings(tmp_path, TRADEWATCH_ALERT_WEBHOOK_URL=hook.base_url)
    write_anomalies(settings, ROWS)
    notify(settings)
    write_anomalies(settings, ROWS)  # the next run re-detects the same anomaly
    second = notify(settings)
    assert second.sent == {"log": 0, "webhook": 0}
    assert len(hook.bodies) == 1
    assert statuses(settings) == [("a1b2c3d4e5f60718", "log", "sent", 1, None),
                                  ("a1b2c3d4e5f60718", "webhook", "sent", 1, None)]

    write_anomalies(settings, [*ROWS, _row("b1b2c3d4e5f60718", date(2025, 5, 1), series_id="total:CHN:USA:export")])
    notify(settings)
    assert len(hook.bodies) == 2 and json.loads(hook.bodies[1])["count"] == 1  # only the new one


@pytest.mark.parametrize("down", ["refused", "http_500"])
def test_a_receiver_that_is_down_keeps_the_alert_pending_and_the_run_green(tmp_path, fake_publisher, down, caplog):
    secret_url = f"http://127.0.0.1:{free_port()}/services/T000/B000/SECRETTOKEN"
    if down == "http_500":
        secret_url = fake_publisher(Reply(500, b"boom")).base_url + "/services/T000/B000/SECRETTOKEN"
    settings = make_settings(tmp_path, TRADEWATCH_ALERT_SLACK_WEBHOOK_URL=secret_url)
    write_anomalies(settings, ROWS)
    result = notify(settings)  # does not raise
    assert result.sent == {"log": 1, "slack": 0} and result.pending == {"slack": 1}
    (key, channel, status, attempts, error), = [r for r in statuses(settings) if r[1] == "slack"]
    assert (key, status, attempts) == ("a1b2c3d4e5f60718", "pending", 1)
    assert ("HTTP 500" if down == "http_500" else "could not reach") in error
    everything = error + caplog.text + json.dumps(result.errors)
    assert "SECRETTOKEN" not in everything

    working = fake_publisher(Reply(200, b"ok"))
    later = make_settings(tmp_path, TRADEWATCH_ALERT_SLACK_WEBHOOK_URL=working.base_url + "/services/x")
    assert notify(later).sent == {"log": 0, "slack": 1}  # retried on the next run
    assert [r[2:4] for r in statuses(later) if r[1] == "slack"] == [("sent", 2)]


def test_a_failed_task_notifies_every_channel_without_secrets(tmp_path, fake_publisher, monkeypatch):
    hook = fake_publisher(Reply(200, b"ok"))
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEWATCH_ALERT_WEBHOOK_URL", hook.base_url)
    monkeypatch.setenv("CENSUS_API_KEY", "census-secret-key")
    from dags.common.defaults import on_task_failure

    ti = SimpleNamespace(dag_id="tradewatch_monthly_refresh", task_id="fetch", map_index=2, try_number=3)
    error = RuntimeError("HTTP 500 from https://api.census.gov/data?get=X&key=census-secret-key")
    on_task_failure({"ti": ti, "run_id": "scheduled__2025-07-10", "exception": error})
    (body,) = [json.loads(b) for b in hook.bodies]
    alert = body["alerts"][0]
    assert alert["kind"] == "task_failure" and alert["severity"] == "critical"
    assert alert["title"] == "task fetch[2] of tradewatch_monthly_refresh failed"
    assert "run scheduled__2025-07-10, try 3" in alert["message"] and "HTTP 500" in alert["message"]
    assert "census-secret-key" not in json.dumps(body)


def test_airflow_connections_configure_the_channels(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TRADEWATCH_SLACK", json.dumps(
        {"conn_type": "http", "password": "https://hooks.slack.example/services/T1/B1/abc"}))
    monkeypatch.setenv("AIRFLOW_CONN_TRADEWATCH_WEBHOOK", json.dumps(
        {"conn_type": "http", "host": "https://alerts.example/hook", "password": "bearer-secret"}))
    monkeypatch.setenv("AIRFLOW_CONN_TRADEWATCH_SMTP", json.dumps(
        {"conn_type": "smtp", "host": "smtp.example", "port": 465, "login": "tw", "password": "pw",
         "extra": {"from": "tw@example.org", "to": "a@example.org,b@example.org"}}))
    settings = make_settings(tmp_path, TRADEWATCH_ALERT_LOG="false")
    found = {c.name: c for c in channels(settings.alerts, airflow_connection)}
    assert set(found) == {"slack", "webhook", "email"}
    assert isinstance(found["slack"], SlackChannel)
    assert found["slack"].url.reveal() == "https://hooks.slack.example/services/T1/B1/abc"
    assert isinstance(found["webhook"], WebhookChannel) and found["webhook"].token.reveal() == "bearer-secret"
    mail = found["email"]
    assert isinstance(mail, EmailChannel)
    assert (mail.host, mail.port, mail.sender, mail.recipients, mail.starttls) == (
        "smtp.example", 465, "tw@example.org", ("a@example.org", "b@example.org"), False)
    assert "abc" not in repr(found["slack"]) and "bearer-secret" not in repr(found["webhook"])
    assert channels(settings.alerts, None) == []  # nothing from the environment, log switched off


def test_alert_settings_reject_bad_values_without_echoing_secrets(tmp_path):
    with pytest.raises(ConfigurationError, match="TRADEWATCH_ALERT_MIN_SEVERITY"):
        make_settings(tmp_path, TRADEWATCH_ALERT_MIN_SEVERITY="loud")
    with pytest.raises(ConfigurationError) as caught:
        make_settings(tmp_path, TRADEWATCH_ALERT_SLACK_WEBHOOK_URL="hooks.slack.com/services/T/B/secret-part")
    assert "secret-part" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="not an e-mail address"):
        make_settings(tmp_path, TRADEWATCH_ALERT_EMAIL_TO="desk")


def test_a_quarantined_release_alerts_once(tmp_path, fake_publisher):
    hook = fake_publisher(Reply(200, b"ok"))
    settings = make_settings(tmp_path, TRADEWATCH_ALERT_WEBHOOK_URL=hook.base_url)
    alert = alerts.quarantine_alert("census_imports_hs:2025-06:abc", "census_imports_hs", "2025-06",
                                    ["expect_table_row_count_to_be_between"], "/data/validation/x.json")
    with open_warehouse(settings.duckdb_path) as con:
        alerts.dispatch(con, settings, [alert])
        alerts.dispatch(con, settings, [alert])  # validated again, still failing: not sent again
    (body,) = [json.loads(b) for b in hook.bodies]
    assert body["alerts"][0]["kind"] == "quarantine"
    assert "tradewatch quality revalidate census_imports_hs:2025-06:abc" in body["alerts"][0]["message"]
