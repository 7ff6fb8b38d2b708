"""Sending one alert: a webhook (Slack-compatible JSON `{"text": ...}`) and/or an e-mail over
SMTP. Never raises: an alert that cannot be sent is logged (secrets masked) and the build's
outcome stays what it was."""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

from pipelines.settings import Settings

log = logging.getLogger("subops.alerts")

TIMEOUT_SECONDS = 10.0


def mask_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com/…`: a webhook's
    path is its password."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or '?'}://{host}{port}/…"


def _secrets(settings: Settings) -> list[str]:
    out = []
    for secret in (settings.alert_webhook_url, settings.smtp_password):
        if secret is not None and secret.get_secret_value():
            out.append(secret.get_secret_value())
    return out


def scrub(text: str, settings: Settings) -> str:
    """An error text with every secret of the settings replaced (errors may quote a URL)."""
    for secret in _secrets(settings):
        text = text.replace(secret, mask_url(secret) if "://" in secret else "***")
    return text


def channels(settings: Settings) -> list[str]:
    """The configured ways to send an alert: `webhook`, `email`."""
    out = []
    if settings.alert_webhook_url is not None and settings.alert_webhook_url.get_secret_value():
        out.append("webhook")
    if settings.smtp_host and recipients(settings):
        out.append("email")
    return out


def recipients(settings: Settings) -> list[str]:
    return [a.strip() for a in (settings.alert_email_to or "").split(",") if a.strip()]


def post_webhook(url: str, text: str) -> None:
    """POST `{"text": text}` as JSON (Slack incoming webhooks, Mattermost, Teams workflows,
    Google Chat and most chat tools accept it)."""
    body = json.dumps({"text": text}).encode()
    req = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
        resp.read()


def send_email(settings: Settings, subject: str, text: str) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.smtp_from or settings.smtp_user or f"subops@{socket.getfqdn()}"
    msg["To"] = ", ".join(recipients(settings))
    msg.set_content(text)
    host, port = settings.smtp_host or "localhost", settings.smtp_port
    if settings.smtp_security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(msg)


def deliver(settings: Settings, subject: str, text: str) -> list[str]:
    """Send through every configured channel; the channels that took the message."""
    sent: list[str] = []
    configured = channels(settings)
    if not configured:
        log.info("alert not sent (no SUBOPS_ALERT_WEBHOOK_URL or SMTP settings): %s", subject)
        return sent
    if "webhook" in configured and settings.alert_webhook_url is not None:
        url = settings.alert_webhook_url.get_secret_value()
        try:
            post_webhook(url, text)
            sent.append("webhook")
        except (OSError, ValueError, urllib.error.URLError) as exc:
            log.warning("alert webhook %s failed: %s", mask_url(url), scrub(str(exc), settings))
    if "email" in configured:
        try:
            send_email(settings, subject, text)
            sent.append("email")
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            log.warning(
                "alert e-mail via %s:%s failed: %s",
                settings.smtp_host,
                settings.smtp_port,
                scrub(str(exc), settings),
            )
    return sent
