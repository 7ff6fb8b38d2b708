"""The 17 tables of docs/sources.md (contract v1). Change only additively; anything else is a v2."""

from __future__ import annotations

from pipelines.contract.model import Column, ColumnType, LoadMode, Table

T = ColumnType

SEGMENTS = ("smb", "mid_market", "enterprise")
REGIONS = ("na", "emea", "apac", "latam")
PRODUCT_FAMILIES = ("platform", "analytics", "payments", "services")
CHARGE_TYPES = ("recurring", "usage", "one_time")
EVENT_TYPES = ("activate", "change", "pause", "resume", "cancel", "renew")
COST_TYPES = ("cogs", "opex")


def _id(name: str, required: bool = True, ref: str | None = None, desc: str = "") -> Column:
    references = None
    if ref:
        references = (ref, name if not name.startswith("parent_") else "account_id")
    return Column(name, T.ID, required=required, references=references, description=desc)


def _money(
    name: str,
    required: bool = True,
    minimum: str | None = None,
    desc: str = "",
    exclusive: bool = False,
) -> Column:
    return Column(
        name,
        T.DECIMAL,
        required=required,
        minimum=minimum,
        exclusive_minimum=exclusive,
        description=desc,
    )


def _enum(name: str, values: tuple[str, ...], required: bool = True, desc: str = "") -> Column:
    return Column(name, T.ENUM, required=required, enum=values, description=desc)


def _ts(name: str, required: bool = True, desc: str = "") -> Column:
    return Column(name, T.TIMESTAMP, required=required, description=desc)


def _date(name: str, required: bool = True, desc: str = "") -> Column:
    return Column(name, T.DATE, required=required, description=desc)


def _cur(name: str = "currency", desc: str = "ISO 4217 currency of the row's amounts") -> Column:
    return Column(name, T.CURRENCY, required=True, description=desc)


ACCOUNTS = "crm.accounts"
CONTRACTS = "crm.contracts"
OPPORTUNITIES = "crm.opportunities"
PLANS = "billing.plans"
SUBSCRIPTIONS = "billing.subscription_events"
INVOICES = "billing.invoices"
CHARGES = "billing.one_time_charges"
VENDORS = "procurement.vendors"
POS = "procurement.purchase_orders"

TABLES: tuple[Table, ...] = (
    Table(
        "crm",
        "accounts",
        LoadMode.SNAPSHOT,
        ("account_id",),
        description="Customer accounts from the CRM; each extract is the full table.",
        columns=(
            _id("account_id"),
            Column("account_name", T.TEXT, required=True),
            _enum("segment", SEGMENTS),
            Column("industry", T.TEXT),
            _enum("region", REGIONS),
            Column("country", T.COUNTRY, description="ISO 3166-1 alpha-2"),
            _cur(desc="billing currency of the account"),
            _id(
                "parent_account_id",
                required=False,
                ref=ACCOUNTS,
                desc="parent account in a group, if any",
            ),
            _ts("created_at"),
            _ts("updated_at"),
        ),
    ),
    Table(
        "crm",
        "opportunities",
        LoadMode.APPEND,
        ("opportunity_id",),
        version="updated_at",
        description="Sales opportunities; new or changed rows per extract.",
        columns=(
            _id("opportunity_id"),
            _id("account_id", ref=ACCOUNTS),
            _enum("opportunity_type", ("new_business", "expansion", "renewal")),
            _enum("stage", ("prospecting", "proposal", "negotiation", "closed_won", "closed_lost")),
            _money("amount", minimum="0"),
            _cur(),
            _date("close_date", required=False),
            _ts("created_at"),
            _ts("updated_at"),
        ),
    ),
    Table(
        "crm",
        "contracts",
        LoadMode.APPEND,
        ("contract_id",),
        version="updated_at",
        description="Customer contracts with their approval trail.",
        columns=(
            _id("contract_id"),
            _id("account_id", ref=ACCOUNTS),
            _id("opportunity_id", required=False, ref=OPPORTUNITIES),
            _enum(
                "status",
                ("draft", "pending_approval", "approved", "active", "expired", "terminated"),
            ),
            _date("start_date"),
            _date("end_date", required=False),
            Column("term_months", T.INT),
            Column("auto_renew", T.BOOL),
            _money("total_contract_value", required=False, minimum="0"),
            _cur(),
            Column("created_by", T.TEXT, required=True),
            _ts("submitted_at", required=False),
            Column("approved_by", T.TEXT),
            _ts("approved_at", required=False),
            _ts("signed_at", required=False),
            _ts("updated_at"),
        ),
    ),
    Table(
        "billing",
        "plans",
        LoadMode.SNAPSHOT,
        ("plan_id",),
        description="Price book: one row per plan; each extract is the full table.",
        notes=(
            "recurring: unit_price is the list price per unit per billing period.",
            "usage: unit_price is the price per unit above included_units in a calendar month.",
            "one_time: unit_price is the list price of the charge.",
        ),
        columns=(
            _id("plan_id"),
            _id("product_id"),
            Column("product_name", T.TEXT, required=True),
            _enum("product_family", PRODUCT_FAMILIES),
            _enum("charge_type", CHARGE_TYPES),
            Column(
                "billing_period_months",
                T.INT,
                allowed=(1, 3, 6, 12),
                required_when=("charge_type", ("recurring",)),
            ),
            _money("unit_price", minimum="0"),
            Column(
                "included_units",
                T.DECIMAL,
                minimum="0",
                default="0",
                description="usage: free units per calendar month",
            ),
            Column("usage_metric", T.TEXT, required_when=("charge_type", ("usage",))),
            _cur(),
            Column("active", T.BOOL, required=True),
            _ts("updated_at"),
        ),
    ),
    Table(
        "billing",
        "subscription_events",
        LoadMode.APPEND,
        ("event_id",),
        description="Subscription lifecycle events; the state on day D is set by events with "
        "effective_date <= D in order of (effective_date, recorded_at, event_id).",
        columns=(
            _id("event_id"),
            _id("subscription_id"),
            _id("account_id", ref=ACCOUNTS),
            _id("contract_id", required=False, ref=CONTRACTS),
            _enum("event_type", EVENT_TYPES),
            _date("effective_date"),
            Column(
                "plan_id",
                T.ID,
                references=(PLANS, "plan_id"),
                required_when=("event_type", ("activate", "change")),
            ),
            Column(
                "quantity",
                T.DECIMAL,
                minimum="0",
                required_when=("event_type", ("activate", "change")),
            ),
            Column(
                "unit_price",
                T.DECIMAL,
                minimum="0",
                description="negotiated net price per unit per billing period; NULL = list",
            ),
            _cur(),
            _ts("recorded_at"),
        ),
    ),
    Table(
        "billing",
        "usage",
        LoadMode.APPEND,
        ("usage_id",),
        description="Metered usage, daily aggregates per subscription and metric.",
        columns=(
            _id("usage_id"),
            _id("subscription_id", ref=SUBSCRIPTIONS),
            _id("account_id", ref=ACCOUNTS),
            Column("usage_metric", T.TEXT, required=True),
            _money("quantity", minimum="0"),
            _ts("occurred_at"),
            _ts("received_at"),
        ),
    ),
    Table(
        "billing",
        "one_time_charges",
        LoadMode.APPEND,
        ("charge_id",),
        description="One-time charges (implementation fees, milestones).",
        columns=(
            _id("charge_id"),
            _id("account_id", ref=ACCOUNTS),
            _id("contract_id", required=False, ref=CONTRACTS),
            _id("plan_id", ref=PLANS),
            Column("description", T.TEXT),
            _money("amount"),
            _cur(),
            _date("milestone_date", desc="the day it is earned and billed"),
        ),
    ),
    Table(
        "billing",
        "invoices",
        LoadMode.APPEND,
        ("invoice_id",),
        version="updated_at",
        description="Invoices as issued by the billing system.",
        columns=(
            _id("invoice_id"),
            _id("account_id", ref=ACCOUNTS),
            _date("invoice_date"),
            _date("due_date"),
            _cur(),
            _money("subtotal"),
            _money("tax"),
            _money("total"),
            _enum("status", ("open", "paid", "void", "uncollectible")),
            _ts("updated_at"),
        ),
    ),
    Table(
        "billing",
        "invoice_lines",
        LoadMode.APPEND,
        ("invoice_line_id",),
        description="Lines of issued invoices.",
        columns=(
            _id("invoice_line_id"),
            _id("invoice_id", ref=INVOICES),
            _id("subscription_id", required=False, ref=SUBSCRIPTIONS),
            _id("charge_id", required=False, ref=CHARGES),
            _id("plan_id", ref=PLANS),
            _date("period_start", required=False),
            _date("period_end", required=False, desc="exclusive"),
            Column("quantity", T.DECIMAL),
            _money("amount"),
        ),
    ),
    Table(
        "billing",
        "payments",
        LoadMode.APPEND,
        ("payment_id",),
        description="Payment attempts against invoices.",
        columns=(
            _id("payment_id"),
            _id("invoice_id", ref=INVOICES),
            _id("account_id", ref=ACCOUNTS),
            _money("amount", minimum="0"),
            _cur(),
            _enum("status", ("succeeded", "failed", "refunded")),
            _ts("attempted_at"),
            Column("failure_reason", T.TEXT),
        ),
    ),
    Table(
        "billing",
        "credit_notes",
        LoadMode.APPEND,
        ("credit_note_id",),
        description="Credit notes issued to accounts.",
        columns=(
            _id("credit_note_id"),
            _id("invoice_id", required=False, ref=INVOICES),
            _id("account_id", ref=ACCOUNTS),
            _money("amount", minimum="0", exclusive=True),
            _cur(),
            _enum("reason", ("service_credit", "billing_error", "goodwill", "refund")),
            _date("issued_date"),
        ),
    ),
    Table(
        "support",
        "tickets",
        LoadMode.APPEND,
        ("ticket_id",),
        version="updated_at",
        description="Support desk tickets.",
        columns=(
            _id("ticket_id"),
            _id("account_id", ref=ACCOUNTS),
            _ts("created_at"),
            _ts("first_response_at", required=False),
            _ts("solved_at", required=False),
            _enum("priority", ("low", "normal", "high", "urgent")),
            _enum("category", ("billing", "technical", "onboarding", "feature_request", "other")),
            _enum("status", ("new", "open", "pending", "solved", "closed")),
            Column("handle_minutes", T.DECIMAL, minimum="0"),
            Column("csat_score", T.INT, allowed=(1, 2, 3, 4, 5)),
            _ts("updated_at"),
        ),
    ),
    Table(
        "support",
        "implementations",
        LoadMode.APPEND,
        ("implementation_id",),
        version="updated_at",
        description="Customer implementation (onboarding) projects.",
        columns=(
            _id("implementation_id"),
            _id("account_id", ref=ACCOUNTS),
            _id("contract_id", required=False, ref=CONTRACTS),
            _enum("status", ("not_started", "in_progress", "live", "stalled", "cancelled")),
            _date("kickoff_date", required=False),
            _date("target_go_live_date", required=False),
            _date("go_live_date", required=False),
            Column("hours_logged", T.DECIMAL, minimum="0"),
            _ts("updated_at"),
        ),
    ),
    Table(
        "procurement",
        "vendors",
        LoadMode.SNAPSHOT,
        ("vendor_id",),
        description="Suppliers; each extract is the full table.",
        columns=(
            _id("vendor_id"),
            Column("vendor_name", T.TEXT, required=True),
            _enum(
                "category",
                (
                    "cloud_hosting",
                    "payment_processing",
                    "third_party_license",
                    "contractor",
                    "facilities",
                    "other",
                ),
            ),
            Column("country", T.COUNTRY),
            _cur(),
            Column("payment_terms_days", T.INT),
            _ts("updated_at"),
        ),
    ),
    Table(
        "procurement",
        "purchase_orders",
        LoadMode.APPEND,
        ("po_id",),
        version="updated_at",
        description="Purchase orders with their approval trail.",
        columns=(
            _id("po_id"),
            _id("vendor_id", ref=VENDORS),
            _enum("status", ("requested", "approved", "rejected", "received", "closed")),
            Column("requested_by", T.TEXT, required=True),
            _ts("requested_at"),
            Column("approved_by", T.TEXT),
            _ts("approved_at", required=False),
            _money("amount", minimum="0"),
            _cur(),
            _enum("cost_type", COST_TYPES),
            _enum("product_family", PRODUCT_FAMILIES, required=False),
            _id("account_id", required=False, ref=ACCOUNTS),
            _ts("updated_at"),
        ),
    ),
    Table(
        "procurement",
        "vendor_bills",
        LoadMode.APPEND,
        ("bill_id",),
        version="updated_at",
        description="Vendor bills (costs), spread over their service period.",
        columns=(
            _id("bill_id"),
            _id("vendor_id", ref=VENDORS),
            _id("po_id", required=False, ref=POS),
            _date("bill_date"),
            _date("service_period_start"),
            _date("service_period_end", desc="exclusive"),
            _money("amount"),
            _cur(),
            _enum("cost_type", COST_TYPES),
            _enum("product_family", PRODUCT_FAMILIES, required=False),
            _id("account_id", required=False, ref=ACCOUNTS),
            _enum("status", ("received", "approved", "paid", "disputed")),
            _ts("paid_at", required=False),
            _ts("updated_at"),
        ),
    ),
    Table(
        "reference",
        "fx_rates",
        LoadMode.APPEND,
        ("rate_date", "currency"),
        description="Daily FX rates: how many units of `currency` one US dollar buys on that day."
        " USD itself needs no row.",
        columns=(
            _date("rate_date"),
            _cur(desc="the quoted currency"),
            _money("units_per_usd", minimum="0", exclusive=True),
        ),
    ),
)

_BY_NAME = {t.qualified_name: t for t in TABLES}


def table(qualified_name: str) -> Table:
    """Look a table up by `source.name` (e.g. `billing.invoices`)."""
    try:
        return _BY_NAME[qualified_name]
    except KeyError:
        raise KeyError(f"no contract table {qualified_name!r}") from None


def tables_by_source(source: str) -> tuple[Table, ...]:
    return tuple(t for t in TABLES if t.source == source)
