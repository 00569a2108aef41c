"""Alerts grouped into stories, the unit a reader takes in: a tariff shock moves the bilateral total, dozens of
chapters and several baskets at once, and forty alerts about one fall bury it.

A story gathers the anomalies of one direction of trade (China->US: US imports from China and China's exports, as
each side reports them, their chapters and baskets; US->China likewise), the price indexes of one country, the
mirror gap, or the data drops of one reporter. Its headline is the latest bilateral total (else its most severe,
then largest member); the rest are named briefly under it. Quarantined releases and failed tasks are stories of
their own. Stories are ordered by severity, then by materiality: the US$ size of the headline's change (stories
without a dollar figure come after those with one of the same severity).

Grouping is only presentation: every anomaly is still its own alert, recorded and sent once per channel
(audit.alerts); a story is built from the alerts a channel has pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tradewatch.sql import literal

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
#: related anomalies named in a story's text, per kind; the rest are counted
NAMED = 6
DOMAIN_ORDER = ("total", "basket", "chapter")


@dataclass(frozen=True)
class Alert:
    """One message to send (tradewatch.notifiers sends them, grouped into stories here)."""

    key: str  # what makes it the same alert on the next run (an anomaly id, a release id)
    kind: str  # anomaly | quarantine | task_failure
    severity: str  # info | warning | critical
    title: str  # one line: what happened
    text: str  # the message: by how much, since when, the likely cause, the query to see it
    fields: dict[str, Any] = field(default_factory=dict)  # structured, for the JSON webhook


@dataclass(frozen=True)
class Story:
    key: str
    headline: Alert
    related: tuple[Alert, ...] = ()

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return (self.headline, *self.related)

    @property
    def severity(self) -> str:
        return max((a.severity for a in self.alerts), key=lambda s: SEVERITY_RANK.get(s, 0))

    @property
    def materiality(self) -> float | None:
        change = self.headline.fields.get("change_usd")
        return abs(change) if isinstance(change, int | float) else None

    @property
    def title(self) -> str:
        return self.headline.title

    @property
    def text(self) -> str:
        if not self.related:
            return self.headline.text
        lines = [_without_query(self.headline.text)]
        lines += _related(self.headline, self.related)
        lines.append(f"{len(self.alerts)} anomalies in this story; all of them: {self.query}")
        return " ".join(lines)

    @property
    def query(self) -> str:
        """SQL listing the story's anomalies (of its kind and periods, at the severities that page)."""
        kind, _, value = self.key.partition(":")
        periods = sorted(str(a.fields.get("period_month")) for a in self.alerts)
        between = f"period_month BETWEEN {literal(periods[0])} AND {literal(periods[-1])}"
        if kind == "data":
            return (f"SELECT period_label, series_label, method, likely_cause FROM marts.anomalies WHERE category = "
                    f"'data' AND (reporter_iso3 = {literal(value)} OR series_id = {literal(value)}) AND {between}")
        where = {"trade": f"direction = {literal(value)} AND domain IN ('total', 'chapter', 'basket')",
                 "price": f"domain = 'price' AND reporter_iso3 = {literal(value)}"
                 }.get(kind, f"domain = {literal(kind)} AND code = {literal(value)}")
        return (f"SELECT period_label, series_label, change_pct, top_contributions, likely_cause FROM marts.anomalies "
                f"WHERE {where} AND category = 'economic' AND severity <> 'info' AND {between} "
                "ORDER BY period_month DESC, abs(change_usd) DESC")


def story_key(alert: Alert) -> str:
    """Which story an alert belongs to."""
    fields = alert.fields
    domain = fields.get("domain")
    if alert.kind != "anomaly" or not domain:
        return f"{alert.kind}:{alert.key}"
    if fields.get("category") == "data":
        return f"data:{fields.get('reporter_iso3') or fields.get('series_id')}"
    if domain in DOMAIN_ORDER:
        return f"trade:{fields.get('direction')}"
    if domain == "price":
        return f"price:{fields.get('reporter_iso3')}"
    return f"{domain}:{fields.get('code')}"


def _prominence(alert: Alert) -> tuple:
    """Headline first: a bilateral total, the latest period, the most severe, the largest change."""
    f = alert.fields
    change = f.get("change_usd")
    return (f.get("domain") != "total", -_ordinal(f.get("period_month")), -SEVERITY_RANK.get(alert.severity, 0),
            -abs(change) if isinstance(change, int | float) else 0.0, alert.key)


def _ordinal(text: Any) -> int:
    try:
        return date.fromisoformat(str(text)[:10]).toordinal()
    except ValueError:
        return 0


def group(alerts: Sequence[Alert]) -> list[Story]:
    """The alerts as stories, most severe first, then the most material."""
    members: dict[str, list[Alert]] = {}
    for alert in alerts:
        members.setdefault(story_key(alert), []).append(alert)
    stories = []
    for key, found in members.items():
        ordered = sorted(found, key=_prominence)
        stories.append(Story(key, ordered[0], tuple(ordered[1:])))
    return sorted(stories, key=lambda s: (-SEVERITY_RANK.get(s.severity, 0), s.materiality is None,
                                          -(s.materiality or 0.0), s.key))


def _without_query(text: str) -> str:
    return text.split(" See: ", 1)[0]


def _related(headline: Alert, related: Sequence[Alert]) -> list[str]:
    """One sentence per kind of related anomaly: other totals, baskets, chapters."""
    sentences = []
    for domain, words in (("total", "Also"), ("basket", "Baskets"), ("chapter", "Chapters"), (None, "And")):
        found = [a for a in related if a.fields.get("domain") == domain
                 or (domain is None and a.fields.get("domain") not in DOMAIN_ORDER)]
        if not found:
            continue
        named = ", ".join(_short(a, headline) for a in found[:NAMED])
        more = f" and {len(found) - NAMED} more" if len(found) > NAMED else ""
        sentences.append(f"{words}: {named}{more}.")
    return sentences


def _short(alert: Alert, headline: Alert) -> str:
    """A related anomaly in a few words: what, by how much, when (if not the headline's period)."""
    f = alert.fields
    domain, change = f.get("domain"), f.get("change_pct")
    if domain == "chapter":
        what = f"HS {f.get('code')}" + (" (China-reported)" if f.get("reporter_iso3") == "CHN" else "")
    elif domain == "basket":
        who = {"USA": "", "CHN": " (China-reported)"}.get(str(f.get("reporter_iso3")), "")
        what = str(f.get("code") or "").replace("_", " ") + (" (all partners, GACC)" if f.get("partner_iso3") ==
                                                            "WLD" else who)
    else:
        what = str(f.get("series_label") or alert.title)
    if f.get("is_low_base"):
        how = "on a small base"
    elif isinstance(change, int | float):
        how = f"{change:+.0f}%"
    else:
        how = "far off its seasonal norm"
    when = "" if f.get("period_label") == headline.fields.get("period_label") else f" in {f.get('period_label')}"
    return f"{what} {how}{when}"
