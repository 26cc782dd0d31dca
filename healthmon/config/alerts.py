"""The alerts section: where the Alertmanager bridge pushes alerts, and the links alerts carry."""

from __future__ import annotations

import string
from typing import ClassVar

from pydantic import field_validator

from healthmon.config.section import Section, setting

__all__ = ["AlertSettings", "TEMPLATE_FIELDS", "check_template"]

#: placeholders a dashboard URL template may use (all label values, so links stay bounded)
TEMPLATE_FIELDS = ("account_id", "tier", "severity", "kind", "rule", "alertname")


def check_template(template: str) -> None:
    """Raise ValueError naming the placeholder if `template` uses one outside TEMPLATE_FIELDS."""
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS or spec or conv:
            raise ValueError(f"unknown placeholder {{{name}}} in {template!r}; "
                             f"use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")


class AlertSettings(Section):
    """The Alertmanager bridge (`healthmon alertmanager`) and the links in every alert it maps."""

    TITLE: ClassVar[str] = "Alerts and the Alertmanager bridge"

    alertmanager_urls: str = setting(
        "", "HEALTHMON_ALERTMANAGER_URLS",
        "Comma-separated Alertmanager base URLs `healthmon alertmanager` pushes every alert to (an HA cluster: "
        "each gets every alert); `--url` overrides.")
    alertmanager_resend_seconds: float = setting(
        60.0, "HEALTHMON_ALERTMANAGER_RESEND_SECONDS",
        "How often the bridge re-sends every firing alert; each says `endsAt` four intervals ahead, so "
        "Alertmanager keeps it firing until healthmon resolves it (Prometheus' resend delay).", gt=0)
    account_url_base: str = setting(
        "http://localhost:6066", "HEALTHMON_ACCOUNT_URL_BASE",
        "Base URL of the HTTP API in alert links: `account_url` is `<base>/accounts/<account_id>` (empty: no link).")
    dashboard_url_template: str = setting(
        "http://localhost:3000/d/healthmon-overview/healthmon?var-tier={tier}", "HEALTHMON_DASHBOARD_URL_TEMPLATE",
        "Grafana link in alerts (`dashboard_url`); may use {account_id}, {tier}, {severity}, {kind}, {rule}, "
        "{alertname} (empty: no link).")
    bridge_host: str = setting("127.0.0.1", "HEALTHMON_BRIDGE_HOST",
                               "Address the Alertmanager bridge's `/metrics` and `/healthz` bind to.")
    bridge_port: int = setting(6068, "HEALTHMON_BRIDGE_PORT",
                               "Port of the Alertmanager bridge's `/metrics` and `/healthz`.", ge=0, le=65535)

    @field_validator("alertmanager_urls")
    @classmethod
    def _check_alertmanager_urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value.strip()

    @field_validator("dashboard_url_template")
    @classmethod
    def _check_dashboard_template(cls, value: str) -> str:
        check_template(value)
        return value

    @property
    def alertmanager_url_list(self) -> list[str]:
        """Return the Alertmanager base URLs, without trailing slashes."""
        return [u.strip().rstrip("/") for u in self.alertmanager_urls.split(",") if u.strip()]
