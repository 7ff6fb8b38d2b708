"""Service tests: the session's tmp DAGSTER_HOME, a local webhook receiver and a local SMTP
sink (service_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_helpers import Inbox, SmtpSink, smtp_server, webhook_server


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(dagster_home: Path) -> Path:
    return dagster_home


@pytest.fixture
def webhook() -> Iterator[Inbox]:
    server, inbox = webhook_server()
    yield inbox
    server.shutdown()


@pytest.fixture(scope="module")
def module_webhook() -> Iterator[Inbox]:
    server, inbox = webhook_server()
    yield inbox
    server.shutdown()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    server, sink = smtp_server()
    yield sink
    server.shutdown()
    server.server_close()
