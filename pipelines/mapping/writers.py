"""Express a contract-shaped landing folder in the shapes of real systems (Stripe as synced by
Fivetran, Salesforce objects, Zendesk ticket exports), so every shipped mapping is tested by a
round trip: generate → write as Stripe → `subops map` → the same contract rows.

Each extract folder of a system export is a full dump of that system's tables as of the extract
(what `COPY stripe.invoice TO ...` of a synced schema gives): for every contract table, the
latest row per key over the contract extracts up to that day. The covered contract tables are
then removed from the landing folder, since `subops map` writes them back.

Choices a real sync would make differently are written down where they are made: ids that the
system would generate are the contract ids (Stripe `cus_` customers carry the CRM account id in
metadata, as companies do); Stripe amounts are minor units, with a fraction kept when the
generator's prorated JPY amount has one (real Stripe amounts are whole minor units).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import duckdb

from pipelines.contract import LoadMode, table
from pipelines.ingest.landing import scan_landing
from pipelines.mapping.model import CURRENCY_EXPONENTS

#: Contract tables each system's writer expresses (and its mapping fills).
COVERS: dict[str, tuple[str, ...]] = {
    "stripe": (
        "billing.plans",
        "billing.subscription_events",
        "billing.invoices",
        "billing.invoice_lines",
        "billing.payments",
        "billing.credit_notes",
    ),
    "salesforce": ("crm.accounts", "crm.opportunities", "crm.contracts"),
    "zendesk": ("support.tickets",),
}
#: Contract tables a writer reads without replacing them (joins, lookups).
READS: dict[str, tuple[str, ...]] = {"stripe": ("crm.accounts",), "salesforce": (), "zendesk": ()}
SYSTEMS = tuple(COVERS)


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _minor(amount: str, currency: str) -> str:
    """SQL: a decimal amount in minor units of its currency, as text without trailing zeros."""
    zero = ", ".join(_lit(c) for c, e in CURRENCY_EXPONENTS.items() if e == 0)
    three = ", ".join(_lit(c) for c, e in CURRENCY_EXPONENTS.items() if e == 3)
    x = (
        f"CAST({amount} AS DECIMAL(38,4)) * CASE WHEN {currency} IN ({zero}) THEN 1 "
        f"WHEN {currency} IN ({three}) THEN 1000 ELSE 100 END"
    )
    return (
        f"CASE WHEN {amount} IS NULL THEN NULL WHEN {x} = round({x}) "
        f"THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) "
        f"ELSE rtrim(rtrim(CAST(CAST({x} AS DECIMAL(38,4)) AS VARCHAR), '0'), '.') END"
    )


def _ts(col: str) -> str:
    """Fivetran's timestamp text (UTC, no offset)."""
    return f"strftime(CAST({col} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')"


def _sf_ts(col: str) -> str:
    """Salesforce's datetime text (2026-01-31T14:05:00.000+0000)."""
    return f"strftime(CAST({col} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000+0000')"


def _json(**pairs: str) -> str:
    """SQL building a JSON object text from named SQL values (NULL members dropped)."""
    parts = ", ".join(f"{_lit(k)}, {v}" for k, v in pairs.items())
    return f"CAST(json_object({parts}) AS VARCHAR)"


STRIPE: dict[str, str] = {
    "customer": f"""
        SELECT 'cus_' || account_id AS id, {_ts("updated_at")} AS _fivetran_synced,
               {_ts("created_at")} AS created, lower(currency) AS currency,
               account_name AS name, 'false' AS is_deleted, 'false' AS livemode,
               {_json(account_id="account_id")} AS metadata
        FROM accounts ORDER BY account_id""",
    "product": f"""
        SELECT product_id AS id, {_ts("max(updated_at)")} AS _fivetran_synced,
               'true' AS active, {_ts("min(updated_at)")} AS created, 'false' AS is_deleted,
               {_json(product_family="any_value(product_family)")} AS metadata,
               any_value(product_name) AS name, 'service' AS type,
               any_value(usage_metric) AS unit_label, {_ts("max(updated_at)")} AS updated
        FROM plans GROUP BY product_id ORDER BY product_id""",
    "price": f"""
        SELECT 'price_' || plan_id AS id, {_ts("updated_at")} AS _fivetran_synced, active,
               'per_unit' AS billing_scheme, {_ts("updated_at")} AS created,
               lower(currency) AS currency, 'false' AS is_deleted, plan_id AS lookup_key,
               {_json(included_units="included_units")} AS metadata, product_name AS nickname,
               product_id,
               CASE WHEN charge_type <> 'one_time' AND billing_period_months = '12' THEN 'year'
                    WHEN charge_type <> 'one_time' THEN 'month' END AS recurring_interval,
               CASE WHEN charge_type <> 'one_time' AND billing_period_months = '12' THEN '1'
                    WHEN charge_type <> 'one_time' THEN coalesce(billing_period_months, '1')
               END AS recurring_interval_count,
               CASE charge_type WHEN 'usage' THEN 'metered' WHEN 'recurring' THEN 'licensed'
               END AS recurring_usage_type,
               CASE WHEN charge_type = 'one_time' THEN 'one_time' ELSE 'recurring' END AS type,
               {_minor("unit_price", "currency")} AS unit_amount_decimal
        FROM plans ORDER BY plan_id""",
    "subscription_history": f"""
        WITH e AS (
            SELECT *, max(CASE WHEN event_type IN ('activate', 'resume') THEN effective_date END)
                          OVER (PARTITION BY subscription_id ORDER BY effective_date,
                                recorded_at, event_id) AS anchor,
                      min(CASE WHEN event_type = 'activate' THEN effective_date END)
                          OVER (PARTITION BY subscription_id) AS started
            FROM subscription_events)
        SELECT subscription_id AS id, {_ts("recorded_at")} AS _fivetran_synced,
               CASE WHEN row_number() OVER (PARTITION BY subscription_id ORDER BY effective_date
                    DESC, recorded_at DESC, event_id DESC) = 1 THEN 'true' ELSE 'false' END
                   AS _fivetran_active,
               {_ts("anchor")} AS billing_cycle_anchor,
               CASE WHEN event_type = 'cancel' THEN {_ts("recorded_at")} END AS canceled_at,
               {_ts("started")} AS created,
               CASE WHEN event_type <> 'cancel' THEN {_ts("effective_date")} END
                   AS current_period_start,
               'cus_' || account_id AS customer_id,
               CASE WHEN event_type = 'cancel' THEN {_ts("effective_date")} END AS ended_at,
               'false' AS livemode,
               {
        _json(
            event_id="event_id",
            contract_id="contract_id",
            unit_price="unit_price",
            renewal="CASE WHEN event_type = 'renew' THEN 'true' END",
        )
    } AS metadata,
               quantity, {_ts("started")} AS start_date,
               CASE event_type WHEN 'cancel' THEN 'canceled' WHEN 'pause' THEN 'paused'
                    ELSE 'active' END AS status
        FROM e ORDER BY subscription_id, effective_date, recorded_at, event_id""",
    "subscription_item": f"""
        SELECT {_ts("recorded_at")} AS _fivetran_synced, {_ts("recorded_at")} AS created,
               {_ts("effective_date")} AS current_period_start, 'si_' || event_id AS id,
               '{{}}' AS metadata, plan_id, quantity, subscription_id
        FROM subscription_events WHERE plan_id IS NOT NULL
        ORDER BY subscription_id, effective_date, recorded_at, event_id""",
    "invoice": f"""
        SELECT invoice_id AS id, {_ts("updated_at")} AS _fivetran_synced,
               {_minor("total", "currency")} AS amount_due, lower(currency) AS currency,
               'cus_' || account_id AS customer_id, {_ts("due_date")} AS due_date,
               'false' AS is_deleted, 'false' AS livemode,
               {_ts("invoice_date")} AS period_end, {_ts("invoice_date")} AS period_start,
               {_minor("subtotal", "currency")} AS subtotal, {_minor("tax", "currency")} AS tax,
               {_minor("total", "currency")} AS total, invoice_id AS number,
               CASE WHEN status = 'paid' THEN 'true' ELSE 'false' END AS paid, status
        FROM invoices ORDER BY invoice_id""",
    "invoice_line_item": f"""
        SELECT l.invoice_line_id AS id, l.invoice_id, {_minor("l.amount", "i.currency")} AS amount,
               lower(i.currency) AS currency, 'false' AS livemode,
               {_ts("l.period_end")} AS period_end, {_ts("l.period_start")} AS period_start,
               l.plan_id, 'false' AS proration, l.quantity, l.subscription_id,
               CASE WHEN l.subscription_id IS NULL THEN 'invoiceitem' ELSE 'subscription' END
                   AS type,
               {_json(charge_id="l.charge_id")} AS metadata
        FROM invoice_lines l JOIN invoices i USING (invoice_id) ORDER BY l.invoice_line_id""",
    "charge": f"""
        SELECT payment_id AS id, {_minor("amount", "currency")} AS amount,
               CASE WHEN status = 'refunded' THEN {_minor("amount", "currency")} ELSE '0' END
                   AS amount_refunded,
               'true' AS captured, {_ts("attempted_at")} AS created, lower(currency) AS currency,
               'cus_' || account_id AS customer_id, failure_reason AS failure_code,
               invoice_id, 'false' AS livemode, CASE WHEN status = 'failed' THEN 'false'
               ELSE 'true' END AS paid,
               CASE WHEN status = 'refunded' THEN 'true' ELSE 'false' END AS refunded,
               CASE WHEN status = 'failed' THEN 'failed' ELSE 'succeeded' END AS status
        FROM payments ORDER BY payment_id""",
    "credit_note": f"""
        SELECT credit_note_id AS id, {_minor("amount", "currency")} AS amount,
               {_ts("issued_date")} AS created, lower(currency) AS currency,
               {_minor("amount", "currency")} AS total, 'false' AS livemode,
               {
        _json(
            reason="CASE WHEN reason = 'goodwill' THEN 'goodwill' END",
            account_id="CASE WHEN invoice_id IS NULL THEN account_id END",
        )
    } AS metadata,
               credit_note_id AS number,
               CASE reason WHEN 'service_credit' THEN 'product_unsatisfactory'
                    WHEN 'billing_error' THEN 'duplicate' END AS reason,
               'issued' AS status, 'post_payment' AS type, invoice_id,
               CASE WHEN reason = 'refund' THEN 're_' || credit_note_id END AS refund_id
        FROM credit_notes ORDER BY credit_note_id""",
}

SALESFORCE: dict[str, str] = {
    "Account": f"""
        SELECT account_id AS Id, account_name AS Name, 'false' AS IsDeleted,
               CASE segment WHEN 'smb' THEN 'SMB' WHEN 'mid_market' THEN 'Mid-Market'
                    WHEN 'enterprise' THEN 'Enterprise' END AS Segment__c,
               industry AS Industry, upper(region) AS Region__c, country AS BillingCountryCode,
               currency AS CurrencyIsoCode, parent_account_id AS ParentId,
               {_sf_ts("created_at")} AS CreatedDate, {_sf_ts("updated_at")} AS LastModifiedDate
        FROM accounts ORDER BY account_id""",
    "Opportunity": f"""
        SELECT opportunity_id AS Id, account_id AS AccountId, 'false' AS IsDeleted,
               CASE opportunity_type WHEN 'new_business' THEN 'New Business'
                    WHEN 'expansion' THEN 'Existing Customer - Upgrade'
                    WHEN 'renewal' THEN 'Renewal' END AS Type,
               CASE stage WHEN 'prospecting' THEN 'Prospecting'
                    WHEN 'proposal' THEN 'Proposal/Price Quote'
                    WHEN 'negotiation' THEN 'Negotiation/Review'
                    WHEN 'closed_won' THEN 'Closed Won' WHEN 'closed_lost' THEN 'Closed Lost'
               END AS StageName,
               amount AS Amount, currency AS CurrencyIsoCode, close_date AS CloseDate,
               CASE WHEN stage = 'closed_won' THEN 'true' ELSE 'false' END AS IsWon,
               CASE WHEN stage LIKE 'closed%' THEN 'true' ELSE 'false' END AS IsClosed,
               {_sf_ts("created_at")} AS CreatedDate, {_sf_ts("updated_at")} AS LastModifiedDate
        FROM opportunities ORDER BY opportunity_id""",
    "Contract": f"""
        SELECT contract_id AS Id, account_id AS AccountId, 'false' AS IsDeleted,
               opportunity_id AS Opportunity__c,
               CASE status WHEN 'draft' THEN 'Draft' WHEN 'pending_approval'
                    THEN 'In Approval Process' WHEN 'approved' THEN 'Approved'
                    WHEN 'active' THEN 'Activated' WHEN 'expired' THEN 'Expired'
                    WHEN 'terminated' THEN 'Terminated' END AS Status,
               start_date AS StartDate, end_date AS EndDate, term_months AS ContractTerm,
               auto_renew AS Auto_Renew__c, total_contract_value AS Total_Contract_Value__c,
               currency AS CurrencyIsoCode, created_by AS CreatedById,
               {_sf_ts("submitted_at")} AS Submitted_At__c, approved_by AS Approved_By__c,
               {_sf_ts("approved_at")} AS Approved_At__c, {_sf_ts("signed_at")} AS ActivatedDate,
               {_sf_ts("updated_at")} AS LastModifiedDate
        FROM contracts ORDER BY contract_id""",
}

ZENDESK: dict[str, str] = {
    "organizations": """
        SELECT n AS id, account_id AS external_id, account_id AS name
        FROM __zd_orgs ORDER BY n""",
    "tickets": """
        SELECT z.n AS id, t.ticket_id AS external_id, o.n AS organization_id,
               t.created_at, t.updated_at, t.priority, t.status,
               CASE t.category WHEN 'billing' THEN 'Billing' WHEN 'technical' THEN 'Technical'
                    WHEN 'onboarding' THEN 'Onboarding' WHEN 'feature_request'
                    THEN 'Feature request' WHEN 'other' THEN 'Other' END AS custom_category,
               CAST(round(CAST(t.handle_minutes AS DECIMAL(18,4)) * 60) AS BIGINT)
                   AS custom_total_time_spent_sec,
               t.csat_score AS satisfaction_rating_score
        FROM tickets t JOIN __zd_tickets z USING (ticket_id)
        JOIN __zd_orgs o USING (account_id) ORDER BY z.n""",
    "ticket_metrics": """
        SELECT z.n AS id, z.n AS ticket_id,
               CAST(epoch(CAST(t.first_response_at AS TIMESTAMPTZ)
                          - CAST(t.created_at AS TIMESTAMPTZ)) AS BIGINT)
                   AS reply_time_in_seconds_calendar,
               CAST(floor(epoch(CAST(t.solved_at AS TIMESTAMPTZ)
                                - CAST(t.created_at AS TIMESTAMPTZ)) / 60) AS BIGINT)
                   AS full_resolution_time_in_minutes_calendar,
               t.solved_at
        FROM tickets t JOIN __zd_tickets z USING (ticket_id) ORDER BY z.n""",
}

QUERIES = {"stripe": STRIPE, "salesforce": SALESFORCE, "zendesk": ZENDESK}


def _state_view(con: duckdb.DuckDBPyConnection, qname: str, files: list[Path], ext: str) -> None:
    """A view `<table name>` of a contract table as known at extract `ext`: the latest extract
    of a snapshot table, the latest row per key (by version, then extract) of an append one."""
    t = table(qname)
    paths = [str(f) for f in files if f.stem <= ext]
    cols = ", ".join(f'"{c}"' for c in t.column_names)
    if not paths:
        types = ", ".join(f'CAST(NULL AS VARCHAR) AS "{c}"' for c in t.column_names)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {t.name} AS SELECT {types} WHERE false")
        return
    src = (
        f"read_csv([{', '.join(_lit(p) for p in paths)}], all_varchar = true, header = true, "
        "filename = true, union_by_name = true)"
    )
    stem = "regexp_extract(filename, '([^/]+)\\.csv$', 1)"
    if t.load_mode is LoadMode.SNAPSHOT:
        latest = max(Path(p).stem for p in paths)
        sql = f"SELECT {cols} FROM {src} WHERE {stem} = {_lit(latest)}"
    else:
        key = ", ".join(f'"{k}"' for k in t.key)
        order = (f'"{t.version}" DESC NULLS LAST, ' if t.version else "") + f"{stem} DESC"
        sql = (
            f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {key} "
            f"ORDER BY {order}) AS __rn FROM {src}) WHERE __rn = 1"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {t.name} AS {sql}")


def write_system(landing: Path, system: str, out: Path) -> list[Path]:
    """Write `system`'s export of the company in `landing` to `out/<extract_id>/<file>.csv`,
    then remove the contract tables it covers from `landing` (`subops map` writes them back)."""
    if system not in QUERIES:
        raise ValueError(f"no writer for {system!r}; one of {', '.join(SYSTEMS)}")
    landing, out = Path(landing), Path(out)
    scan = scan_landing(landing, today=None, tolerance_days=100_000)
    if any(f.fmt != "csv" for f in scan.files):
        raise ValueError("the system writers read CSV landing folders (generate --format csv)")
    needed = (*COVERS[system], *READS[system])
    files = {q: [f.path for f in scan.files if f.table.qualified_name == q] for q in needed}
    extracts = sorted(
        {f.extract_id for q in COVERS[system] for f in scan.files if f.table.qualified_name == q}
    )
    shutil.rmtree(out, ignore_errors=True)
    written: list[Path] = []
    with contextlib.closing(duckdb.connect()) as con:
        con.execute("SET TimeZone = 'UTC'")
        if system == "zendesk":  # stable integer ids across extracts, as Zendesk's are
            _state_view(con, "support.tickets", files["support.tickets"], "9999")
            con.execute(
                "CREATE TEMP TABLE __zd_tickets AS SELECT ticket_id, "
                "row_number() OVER (ORDER BY ticket_id) + 1000 AS n FROM tickets"
            )
            con.execute(
                "CREATE TEMP TABLE __zd_orgs AS SELECT account_id, "
                "row_number() OVER (ORDER BY account_id) + 360000 AS n "
                "FROM (SELECT DISTINCT account_id FROM tickets)"
            )
        for ext in extracts:
            for q in needed:
                _state_view(con, q, files[q], ext)
            folder = out / ext
            folder.mkdir(parents=True, exist_ok=True)
            for name, sql in QUERIES[system].items():
                path = folder / f"{name}.csv"
                con.execute(f"COPY ({sql}) TO {_lit(str(path))} (HEADER, DELIMITER ',')")
                written.append(path)
    for q in COVERS[system]:
        t = table(q)
        shutil.rmtree(landing / t.source / t.name, ignore_errors=True)
    return written
