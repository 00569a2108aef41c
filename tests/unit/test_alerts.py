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
import yaml

from tests.conftest import REPO_ROOT, Reply, free_port, make_settings
from tradewatch import alerts
from tradewatch.airflow_connections import airflow_connection
from tradewatch.errors import ConfigurationError
from tradewatch.notifiers import Alert, EmailChannel, SlackChannel, WebhookChannel, channels
from tradewatch.settings import get_settings
from tradewatch.warehouse import open_warehouse

QUERY = "SELECT * FROM marts.anomalies WHERE anomaly_id = 'a1b2c3d4e5f60718'"
CONTRIBUTIONS = "HS 85 carried 41% of the fall, HS 84 22%, HS 94 12%; rises elsewhere offset 3%"
TEXT = ("US imports from China (US-reported) fell 36.6% year on year in May 2025. $23.40bn a month against $33.10bn "
        "expected; robust z -4.8. Largest fall since Feb 2020. Anomalous for 2 periods in a row. " + CONTRIBUTIONS
        + ". Stable: it held in the previous period too. Likely cause: 2025-04-10 US EO 14266 (China 125%) "
        "(84% -> 125%). See: " + QUERY)
TITLE = "US imports from China (US-reported) fell 36.6% year on year in May 2025"
FIELDS = {"anomaly_id": "a1b2c3d4e5f60718", "series_id": "total:USA:CHN:import",
          "series_label": "US imports from China (US-reported)", "domain": "total", "category": "economic",
          "direction": "CN->US", "reporter_iso3": "USA", "partner_iso3": "CHN", "flow": "import", "code": "TOTAL",
          "period_month": "2025-05-01", "period_label": "May 2025", "method": "yoy+robust_z", "observed": 23.4e9,
          "expected": 33.1e9, "prior_value": 36.9e9, "change_pct": -36.57, "change_usd": -13.5e9, "score": -4.8,
          "confidence": "normal", "is_low_base": False, "is_stable": True, "top_contributions": CONTRIBUTIONS,
          "likely_cause": "2025-04-10 US EO 14266 (China 125%) (84% -> 125%)", "likely_cause_event_id": "US-2025-30",
          "events": "2025-04-09 US EO 14259; 2025-04-10 US EO 14266", "query": QUERY, "is_synthetic": False,
          "largest_fall_since": "2020-02-01"}
MART_YML = REPO_ROOT / "dbt_project" / "models" / "marts" / "anomalies" / "_anomalies__models.yml"


def anomalies_ddl() -> str:
    """marts.anomalies as its dbt contract declares it (dbt builds it in the refresh; unit tests write rows)."""
    model = yaml.safe_load(MART_YML.read_text())["models"][0]
    columns = ", ".join(f"{c['name']} {c['data_type'].upper()}" for c in model["columns"])
    return f"CREATE TABLE marts.anomalies ({columns})"


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
           "is_synthetic": False, "detected_at": datetime(2025, 7, 10, 6), "source": "census", "direction": "CN->US",
           "prior_value": 36.9e9, "change_usd": -13.5e9, "threshold_pct": 20.0, "is_low_base": False,
           "held_previous_period": True, "held_before_revision": None, "is_stable": True, "contributions": None,
           "top_contributions": CONTRIBUTIONS}
    row.update(kw)
    return row


def write_anomalies(settings, rows):
    with open_warehouse(settings.duckdb_path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("DROP TABLE IF EXISTS marts.anomalies")
        con.execute(anomalies_ddl())
        for row in rows:
            con.execute(f"INSERT INTO marts.anomalies ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        list(row.values()))


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
        "stories": [{"severity": "critical", "title": TITLE, "message": TEXT, "keys": ["a1b2c3d4e5f60718"]}],
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
    from dags.tradewatch_dags.defaults import on_task_failure

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
    env = {"TRADEWATCH_DATA_DIR": str(tmp_path), "TRADEWATCH_ALERT_LOG": "false"}
    settings = get_settings(env, connections=airflow_connection)
    found = {c.name: c for c in channels(settings.alerts)}
    assert set(found) == {"slack", "webhook", "email"}
    assert isinstance(found["slack"], SlackChannel)
    assert found["slack"].url.reveal() == "https://hooks.slack.example/services/T1/B1/abc"
    assert isinstance(found["webhook"], WebhookChannel) and found["webhook"].token.reveal() == "bearer-secret"
    mail = found["email"]
    assert isinstance(mail, EmailChannel)
    assert (mail.host, mail.port, mail.sender, mail.recipients, mail.starttls) == (
        "smtp.example", 465, "tw@example.org", ("a@example.org", "b@example.org"), False)
    assert "abc" not in repr(found["slack"]) and "bearer-secret" not in repr(found["webhook"])
    assert {"https://hooks.slack.example/services/T1/B1/abc", "bearer-secret", "pw"} <= set(settings.secrets)
    assert channels(get_settings(env).alerts) == []  # nothing from the environment, log switched off
    off = get_settings({**env, "TRADEWATCH_ALERT_AIRFLOW_CONNECTIONS": "false"}, connections=airflow_connection)
    assert channels(off.alerts) == []


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


# --- stories: related anomalies in one message, most severe first -------------------------------------------------

def _alert(key, severity, domain, change_usd=None, **fields):
    base = {"domain": domain, "category": "economic", "direction": "CN->US", "reporter_iso3": "USA",
            "partner_iso3": "CHN", "period_month": "2025-05-01", "period_label": "May 2025", "change_usd": change_usd,
            "change_pct": -40.0, "series_label": f"series {key}"}
    base.update(fields)
    return Alert(key, "anomaly", severity, f"title {key}", f"text {key}. See: SELECT {key}", base)


def test_a_bilateral_fall_with_its_chapters_and_baskets_is_one_story_led_by_the_total():
    from tradewatch import stories

    batch = [_alert("ch85", "warning", "chapter", -4e9, code="85"),
             _alert("phones", "critical", "basket", -1e9, code="smartphones"),
             _alert("cn_total", "critical", "total", -9e9, reporter_iso3="CHN", series_label="China's exports"),
             _alert("us_total", "critical", "total", -13e9),
             _alert("april", "warning", "total", -5e9, period_month="2025-04-01", period_label="Apr 2025"),
             _alert("cpi", "critical", "price", None),
             _alert("gap", "warning", "mirror_gap", None, code="CN->US"),
             alerts.quarantine_alert("census_imports_hs:2025-06:abc", "census_imports_hs", "2025-06", ["rows"], "x"),
             _alert("exports", "warning", "total", -2e9, direction="US->CN")]
    grouped = stories.group(batch)
    trade = grouped[0]
    assert trade.headline.key == "us_total"  # the latest total, then the largest
    assert [a.key for a in trade.related] == ["cn_total", "april", "phones", "ch85"]
    assert trade.severity == "critical" and trade.materiality == 13e9
    # severity first, then materiality (US$ of the headline's change); stories without a dollar figure after
    assert [s.headline.key for s in grouped] == [
        "us_total", "cpi", "quarantine:census_imports_hs:2025-06:abc", "exports", "gap"]
    text = trade.text
    assert text.startswith("text us_total.") and "Also: China's exports -40%, series april -40% in Apr 2025." in text
    assert "Baskets: smartphones -40%." in text and "Chapters: HS 85 -40%." in text
    assert "5 anomalies in this story; all of them: SELECT" in text and text.count("Also:") == 1
    assert "WHERE direction = 'CN->US' AND domain IN ('total', 'chapter', 'basket')" in trade.query
    assert "period_month BETWEEN '2025-04-01' AND '2025-05-01'" in trade.query


def test_the_digest_leads_with_the_critical_stories_and_names_one_in_its_subject():
    """Regression: the 15-line digest was ordered by recency and showed 1 of 12 criticals under a warning's name."""
    from tradewatch.notifiers import DIGEST_LINES, digest_lines, subject

    warnings = [_alert(f"w{i}", "warning", "price", None, reporter_iso3=f"C{i:02d}") for i in range(20)]
    criticals = [_alert(f"c{i}", "critical", "mirror_gap", None, code=f"dir{i}", period_month="2025-03-01")
                 for i in range(12)]
    batch = warnings + criticals  # the warnings are newer
    lines = digest_lines(batch)
    assert len(lines) == DIGEST_LINES + 1 and lines[-1].startswith("... and 17 more stories (17 alerts)")
    assert all(line.startswith("[CRITICAL]") for line in lines[:12]) and lines[12].startswith("[WARNING]")
    assert subject(batch).startswith("tradewatch: 32 stories, 12 critical — title c")


def test_a_tiny_base_gets_levels_not_a_percentage_and_stability_is_said():
    row = {**_row("x", date(2025, 5, 1)), "series_label": "US imports from China: rare earths (US-reported)",
           "observed": 1.2e6, "prior_value": 4.1e6, "change_pct": -70.7, "is_low_base": True,
           "held_previous_period": False, "is_stable": False, "top_contributions": None}
    assert alerts.anomaly_title(row) == ("US imports from China: rare earths (US-reported) fell to $1.2m a month in "
                                         "May 2025, from $4.1m a year earlier")
    text = alerts.anomaly_text(row)
    assert "70.7%" not in text and "Largest fall" not in text and "A small base a year earlier" in text
    assert "Not yet stable: the first anomalous period" in text
    revised = alerts.anomaly_text({**_row("y", date(2025, 5, 1)), "held_before_revision": False, "is_stable": False})
    assert "Not stable: on the figures as first published it would not have crossed the threshold" in revised
