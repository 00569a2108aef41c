"""Alert channels: Slack-compatible webhook, generic JSON webhook, SMTP e-mail, and the log.

Each channel takes a batch of alerts and delivers one digest (one Slack post, one webhook call, one e-mail) whose
paragraphs are stories: related anomalies grouped under one headline, most severe first (tradewatch.stories), so a
month with many anomalies does not flood anyone and the worst news leads. A channel raises NotifierError on
failure; the caller keeps the alerts pending and retries them on the next run. Configured by settings.alerts: the
environment and, inside Airflow, the connections `tradewatch_slack`, `tradewatch_webhook` and `tradewatch_smtp`
(resolved by tradewatch.settings).
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from tradewatch import stories
from tradewatch.errors import TradewatchError
from tradewatch.redact import redact
from tradewatch.settings import AlertSettings, Secret
from tradewatch.stories import Alert

log = logging.getLogger("tradewatch.alerts")

DIGEST_LINES = 15  # stories per digest
MORE_QUERY = ("SELECT period_label, severity, series_label, change_pct, top_contributions, likely_cause "
              "FROM marts.anomalies WHERE severity <> 'info' "
              "ORDER BY period_month DESC, list_position(['critical', 'warning'], severity), abs(change_usd) DESC")


class NotifierError(TradewatchError):
    """A channel could not deliver; the alerts stay pending."""


class Channel(Protocol):
    name: str

    def send(self, alerts: Sequence[Alert]) -> None: ...


def subject(alerts: Sequence[Alert]) -> str:
    """The most severe story's headline, with how many stories and critical ones there are."""
    grouped = stories.group(alerts)
    if len(grouped) == 1:
        return f"tradewatch: {grouped[0].title}"
    critical = sum(s.severity == "critical" for s in grouped)
    counts = f"{len(grouped)} stories" + (f", {critical} critical" if critical else "")
    return f"tradewatch: {counts} — {grouped[0].title}"


def digest_lines(alerts: Sequence[Alert]) -> list[str]:
    """One paragraph per story, most severe first, then the most material."""
    grouped = stories.group(alerts)
    lines = [f"[{story.severity.upper()}] {story.text}" for story in grouped[:DIGEST_LINES]]
    if len(grouped) > DIGEST_LINES:
        rest = grouped[DIGEST_LINES:]
        lines.append(f"... and {len(rest)} more stories ({sum(len(s.alerts) for s in rest)} alerts). All anomalies: "
                     f"{MORE_QUERY}")
    return lines


@dataclass
class LogChannel:
    name: str = "log"

    def send(self, alerts: Sequence[Alert]) -> None:
        level = logging.ERROR if any(a.kind != "anomaly" for a in alerts) else logging.WARNING
        log.log(level, "ALERT %s", subject(alerts))
        for line in digest_lines(alerts):
            log.log(level, "ALERT %s", line)


def _post_json(url: Secret, payload: dict, timeout: float, headers: dict[str, str], secrets: list[str]) -> None:
    target = url.reveal() or ""
    request = urllib.request.Request(target, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https or a test server)
            response.read()
    except urllib.error.HTTPError as exc:
        raise NotifierError(f"the receiver answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifierError(redact(f"could not reach the receiver: {reason}", [target, *secrets])) from None


@dataclass
class SlackChannel:
    url: Secret
    timeout: float = 10.0
    name: str = "slack"

    def payload(self, alerts: Sequence[Alert]) -> dict:
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": subject(alerts)[:150]}}]
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line[:2900]}}
                   for line in digest_lines(alerts)]
        return {"text": subject(alerts), "blocks": blocks}

    def send(self, alerts: Sequence[Alert]) -> None:
        _post_json(self.url, self.payload(alerts), self.timeout, {}, [])


@dataclass
class WebhookChannel:
    url: Secret
    token: Secret = field(default_factory=lambda: Secret(None))
    timeout: float = 10.0
    name: str = "webhook"

    def payload(self, alerts: Sequence[Alert]) -> dict:
        return {"source": "tradewatch", "summary": subject(alerts), "count": len(alerts),
                "stories": [{"severity": s.severity, "title": s.title, "message": s.text,
                             "keys": [a.key for a in s.alerts]} for s in stories.group(alerts)],
                "alerts": [{"key": a.key, "kind": a.kind, "severity": a.severity, "title": a.title,
                            "message": a.text, **a.fields} for a in alerts]}

    def send(self, alerts: Sequence[Alert]) -> None:
        token = self.token.reveal()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        _post_json(self.url, self.payload(alerts), self.timeout, headers, [token] if token else [])


@dataclass
class EmailChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: Secret = field(default_factory=lambda: Secret(None))
    starttls: bool = True
    timeout: float = 10.0
    name: str = "email"

    def message(self, alerts: Sequence[Alert]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject(alerts)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content("\n\n".join(digest_lines(alerts)) + "\n\n-- tradewatch\n")
        return msg

    def send(self, alerts: Sequence[Alert]) -> None:
        password = self.password.reveal()
        try:
            smtp_class = smtplib.SMTP_SSL if self.port == 465 else smtplib.SMTP
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls and smtp_class is smtplib.SMTP:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user and password:
                    smtp.login(self.user, password)
                smtp.send_message(self.message(alerts))
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifierError(redact(f"SMTP {self.host}:{self.port} failed: {exc}",
                                       [password] if password else [])) from None


def channels(settings: AlertSettings) -> list[Channel]:
    """Every configured channel (the settings resolved the Airflow connections, if any)."""
    found: dict[str, Channel] = {}
    if settings.log:
        found["log"] = LogChannel()
    if settings.slack_webhook_url:
        found["slack"] = SlackChannel(settings.slack_webhook_url, settings.timeout_seconds)
    if settings.webhook_url:
        found["webhook"] = WebhookChannel(settings.webhook_url, settings.webhook_token, settings.timeout_seconds)
    if settings.smtp_host and settings.email_to:
        found["email"] = EmailChannel(settings.smtp_host, settings.smtp_port, settings.email_from,
                                      settings.email_to, settings.smtp_user, settings.smtp_password,
                                      settings.smtp_starttls, settings.timeout_seconds)
    return list(found.values())
