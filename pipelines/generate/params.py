"""What the simulated company is made of: the run's parameters and how each customer segment
buys, uses, complains and pays, in one frozen `Params`; plus the vocabularies (names, countries,
staff) rows are drawn from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from pipelines.contract.tables import SEGMENTS
from pipelines.generate.billing import Plan
from pipelines.generate.common import FX_LEVEL


@dataclass(frozen=True)
class SegmentProfile:
    """One customer segment's behaviour; probabilities per draw, rates per month."""

    weight: int  # share of new accounts (relative)
    plan_mix: tuple[tuple[str, int], ...]  # base plan product key, weight
    seats: tuple[int, int]  # seats bought on a per-seat plan (inclusive range)
    sales_cycle_days: tuple[int, int]  # opportunity created -> closed
    discount: tuple[float, float, float]  # probability of a discount, smallest, largest
    implementation_p: float  # a paid onboarding project
    implementation_days: int  # planned kickoff -> go-live
    ticket_rate: float  # support tickets a month, for a customer of average health
    churn_hazard: float  # monthly, before support experience scales it
    usage_p: float  # buys a usage-priced add-on
    expansion_p: float  # seat expansion in a month (a contraction is 0.02 on top)
    payment_terms_days: int
    payment_fail_p: float  # first collection attempt fails


SEGMENT_PROFILES: Mapping[str, SegmentProfile] = MappingProxyType(
    {
        "smb": SegmentProfile(
            weight=60,
            plan_mix=(
                ("PLAT-CORE-M", 50),
                ("PLAT-TEAM-M", 20),
                ("PLAT-CORE-Q", 12),
                ("PLAT-CORE-A", 18),
            ),
            seats=(2, 15),
            sales_cycle_days=(7, 30),
            discount=(0.1, 0.05, 0.10),
            implementation_p=0.05,
            implementation_days=30,
            ticket_rate=0.35,
            churn_hazard=0.022,
            usage_p=0.35,
            expansion_p=0.03,
            payment_terms_days=14,
            payment_fail_p=0.08,
        ),
        "mid_market": SegmentProfile(
            weight=30,
            plan_mix=(
                ("PLAT-CORE-A", 40),
                ("PLAT-PRO-M", 20),
                ("PLAT-CORE-M", 15),
                ("PLAT-PRO-A", 25),
            ),
            seats=(15, 80),
            sales_cycle_days=(20, 60),
            discount=(0.5, 0.05, 0.15),
            implementation_p=0.5,
            implementation_days=60,
            ticket_rate=0.9,
            churn_hazard=0.012,
            usage_p=0.55,
            expansion_p=0.05,
            payment_terms_days=30,
            payment_fail_p=0.04,
        ),
        "enterprise": SegmentProfile(
            weight=10,
            plan_mix=(("PLAT-PRO-A", 70), ("PLAT-CORE-A", 20), ("PLAT-PRO-M", 10)),
            seats=(80, 500),
            sales_cycle_days=(45, 120),
            discount=(0.9, 0.10, 0.25),
            implementation_p=0.9,
            implementation_days=120,
            ticket_rate=2.2,
            churn_hazard=0.006,
            usage_p=0.7,
            expansion_p=0.06,
            payment_terms_days=45,
            payment_fail_p=0.02,
        ),
    }
)


@dataclass(frozen=True)
class Params:
    """Everything one simulation run depends on; every account reads it, none changes it."""

    seed: int
    start: dt.date
    end: dt.date
    horizon: dt.date  # last simulated day (end + daily, at least a month)
    n_accounts: int
    exception_rate: float  # share of billing keys the billing system gets wrong
    plans: Mapping[str, Plan]
    segments: Mapping[str, SegmentProfile] = field(default_factory=lambda: SEGMENT_PROFILES)
    win_rate: float = 0.8  # new-business opportunities won
    legacy_window_days: int = 90  # early customers may still buy the legacy plan ...
    legacy_p: float = 0.4  # ... instead of Core monthly
    pause_p: float = 0.004  # a month's chance of pausing the base subscription
    reactivation_p: float = 0.18  # a lost customer comes back months later
    price_rise_p: float = 0.6  # a renewal raises the price
    bundle_p: float = 0.15  # non-smb buys the analytics suite with the platform
    reissue_p: float = 0.004  # an invoice is voided and issued again
    refund_p: float = 0.006  # a paid invoice is half refunded
    credit_p: float = 0.015  # an invoice gets a credit note (refunds included)

    def segment_weights(self) -> tuple[int, ...]:
        return tuple(self.segments[s].weight for s in SEGMENTS)


# --- vocabularies --------------------------------------------------------------------------------
REGION_W = (("na", 0.45), ("emea", 0.30), ("apac", 0.15), ("latam", 0.10))
COUNTRIES = {
    "na": ("US", "US", "US", "CA"),
    "emea": ("DE", "FR", "NL", "GB", "GB", "ES", "IE"),
    "apac": ("JP", "JP", "AU", "SG", "IN"),
    "latam": ("BR", "MX", "AR", "CL"),
}
INDUSTRIES = (
    "software",
    "retail",
    "fintech",
    "healthcare",
    "media",
    "logistics",
    "education",
    "manufacturing",
    "travel",
    "public_sector",
)
NAME_A = (
    "Blue",
    "North",
    "Silver",
    "Bright",
    "Quiet",
    "Rapid",
    "Golden",
    "Iron",
    "Clear",
    "Red",
    "Open",
    "Prime",
    "Lunar",
    "Solar",
    "Cedar",
    "Harbor",
    "Summit",
    "Vector",
    "Nimbus",
    "Atlas",
)
NAME_B = (
    "River",
    "Peak",
    "Stone",
    "Field",
    "Bridge",
    "Wave",
    "Forge",
    "Leaf",
    "Signal",
    "Works",
    "Labs",
    "Systems",
    "Dynamics",
    "Logic",
    "Cloud",
    "Metrics",
    "Foods",
    "Health",
    "Motors",
    "Media",
)
NAME_C = ("Inc", "Ltd", "GmbH", "SAS", "BV", "KK", "LLC", "Group", "Co", "SA")
REPS = tuple(f"rep{i:02d}@subops.example" for i in range(1, 25))
MANAGERS = (
    "mgr.alvarez@subops.example",
    "mgr.chen@subops.example",
    "mgr.okafor@subops.example",
    "mgr.schmidt@subops.example",
)
#: usage metric -> (product key, mean daily units by segment)
USAGE = {
    "api_calls": ("PAY-API-U", {"smb": 900, "mid_market": 6000, "enterprise": 40000}),
    "transactions": ("PAY-TXN-U", {"smb": 25, "mid_market": 150, "enterprise": 900}),
    "queries": ("ANLT-QRY-U", {"smb": 4000, "mid_market": 30000, "enterprise": 200000}),
}
#: first-response target (hours) by ticket priority
SLA_H = {"urgent": 1, "high": 4, "normal": 24, "low": 72}
#: VAT added to invoices by customer country (none elsewhere)
TAX = {
    "GB": Decimal("0.20"),
    "DE": Decimal("0.19"),
    "FR": Decimal("0.20"),
    "NL": Decimal("0.21"),
    "ES": Decimal("0.21"),
    "IE": Decimal("0.23"),
}
#: units per USD at the FX level (for approximate USD totals of billings)
FX_USD = {"USD": Decimal(1), **FX_LEVEL}
#: base plan -> plans a customer may move to (same period length, or monthly -> annual)
PLAN_MOVES = {
    "PLAT-CORE-M": ("PLAT-PRO-M", "PLAT-CORE-A"),
    "PLAT-PRO-M": ("PLAT-CORE-M", "PLAT-PRO-A"),
    "PLAT-CORE-A": ("PLAT-PRO-A",),
    "PLAT-PRO-A": ("PLAT-CORE-A",),
    "PLAT-LEGACY-M": ("PLAT-CORE-M",),
    "PLAT-TEAM-M": ("PLAT-CORE-M",),
}
#: plans sold as one unit, whatever the team size
FLAT_PLANS = ("PLAT-TEAM-M", "ANLT-SUITE-Q", "ANLT-SUITE-A")
