"""One simulated customer: who it is (`Account`) and the rows its life produced (`AccountOut`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipelines.generate.params import SegmentProfile


@dataclass(frozen=True)
class Account:
    """The customer as created in the CRM; `n` (1-based) numbers every id of its rows."""

    n: int
    account_id: str
    segment: str
    profile: SegmentProfile
    region: str
    country: str
    currency: str
    created: dt.date
    health: float  # latent: poor health -> more tickets, lower CSAT, more churn


@dataclass
class AccountOut:
    """Everything one account contributes to the landing folder and the truth manifest."""

    rows: dict[str, list[tuple]] = field(default_factory=dict)
    usage: list[dict] = field(default_factory=list)  # column arrays per usage subscription
    exceptions: list[tuple] = field(default_factory=list)
    anomalies: list[tuple] = field(default_factory=list)  # planted (plant.py)
    stats: dict = field(default_factory=dict)

    def add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)
