"""Account 360: one account — its header and current MRR/ARR, MRR history with its movements,
subscriptions and their segments, invoices with payments and open balances, support tickets,
implementation and margin.

The account is picked in a searchable box or arrives in the URL (`?account=<id>`, which is what
`st.switch_page(..., query_params={"account": id})` from another page sets); the choice is written
back to the URL so the view can be shared. An id from the URL is used only if dim_accounts has it
(the picker's options are the allow-list); any other value shows a note naming it and runs no
query. Every figure is a mart column read through `queries_account`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards.lib import charts, fmt, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency

NA = "n/a"
#: The URL parameter holding the account id, and the session keys of the picker.
PARAM = "account"
PICK = "account_pick"
SEEN = "account_url_seen"
#: Marts the monthly and list sections read (each section says when its mart is not built).
HEADER_MARTS = ("dim_accounts", "fct_mrr_monthly")
INVOICE_MONEY = ["total", "paid_amount", "refunded_amount", "credited_amount", "open_amount"]
INVOICE_LABELS = {
    "open_usd": "Open",
    "open_amount": "Open (invoice currency)",
    "total": "Total (invoice currency)",
    "paid_amount": "Paid",
    "refunded_amount": "Refunded",
    "credited_amount": "Credited",
    "last_payment_attempt_at": "Last payment attempt (UTC)",
    "is_void": "Void",
    "is_missing_fx_rate": "No FX rate",
}


def _words(value: Any) -> str:
    """`mid_market` → `mid market`; missing → an em dash."""
    return fmt.DASH if fmt.is_missing(value) else str(value).replace("_", " ")


def _shown_id(value: str) -> str:
    """An id from the URL, safe to print in a note (short, no markdown code fences)."""
    text = value if len(value) <= 60 else value[:57] + "…"
    return text.replace("`", "'")


def _choose(wh: Warehouse) -> str | None:
    """The picker, synced both ways with `?account=`: a new URL value that dim_accounts has
    selects that account; picking one writes its id to the URL. Returns the chosen id or None."""
    options = query(wh, "account_options")
    ids = list(options["account_id"])
    known = set(ids)
    labels = {
        a: f"{n} · {a}" + (" (deleted)" if deleted else "")
        for a, n, deleted in zip(
            options["account_id"], options["account_name"], options["is_deleted"], strict=True
        )
    }
    raw = st.query_params.get(PARAM)
    wanted = (raw.strip() or None) if isinstance(raw, str) else None
    if wanted != st.session_state.get(SEEN):  # arrived from a link or another page
        st.session_state[SEEN] = wanted
        if wanted in known:
            st.session_state[PICK] = wanted
    if st.session_state.get(PICK) not in known:  # e.g. an account of an earlier build
        st.session_state[PICK] = None
    pick = st.selectbox(
        "Account",
        ids,
        index=None,
        format_func=lambda a: labels.get(a, a),
        key=PICK,
        placeholder="Search an account by name or id",
    )
    if pick is not None and pick != wanted:
        st.query_params[PARAM] = pick
        st.session_state[SEEN] = pick
    elif pick is None and wanted in known:
        del st.query_params[PARAM]
        st.session_state[SEEN] = None
    if pick is None and wanted is not None and wanted not in known:
        st.warning(
            f"There is no account `{_shown_id(wanted)}` in this warehouse, so the link's account "
            "was not opened. Choose an account above.",
            icon=":material/person_off:",
        )
    return pick


def _open_account(account_id: str) -> None:
    """Button callback: show another account (the parent) — runs before the rerun draws the
    picker, so its state may be set."""
    st.session_state[PICK] = account_id


def _header(wh: Warehouse, account: str, cur: Currency) -> None:
    h = query(wh, "account_header", account).iloc[0]
    st.subheader(str(h["account_name"]) + (" (deleted in the CRM)" if h["is_deleted"] else ""))
    facts = [
        f"**Id** `{h['account_id']}`",
        f"**Segment** {_words(h['segment'])}",
        f"**Region** {_words(h['region'])}",
        f"**Country** {_words(h['country'])}",
        f"**Currency** {_words(h['currency'])}",
        f"**Status** {_words(h['status'])}",
        f"**Cohort** {fmt.month_label(h['cohort_month'], short=True)}",
    ]
    if not fmt.is_missing(h["parent_account_id"]):
        parent = h["parent_account_name"]
        name = fmt.DASH if fmt.is_missing(parent) else parent
        facts.append(f"**Parent** {name} (`{h['parent_account_id']}`)")
    st.markdown(" · ".join(facts))
    own = fmt.currency(h["currency"])
    items: list[ui.Tile | None] = [
        ui.Tile(
            "Current MRR",
            fmt.money(h["current_mrr_usd"], cur),
            help="MRR on the as-of date (dim_accounts); "
            f"{fmt.money(h['current_mrr'], own)} in the account's currency.",
        ),
        ui.Tile(
            "ARR",
            fmt.money(h["arr_usd"], cur),
            help="ARR of the as-of month (fct_mrr_monthly): 12 × MRR.",
        ),
    ]
    invoiced = ui.has(wh, "fct_issued_invoices")
    totals = query(wh, "invoice_totals", account).iloc[0] if invoiced else None
    if totals is not None:
        items += [
            ui.Tile(
                "Open balance",
                fmt.money(totals["open_usd"], cur),
                help=f"{int(totals['open_invoices']):,} open invoices at the as-of date "
                "(Σ open balances of fct_issued_invoices).",
            ),
            ui.Tile(
                "Past due",
                fmt.money(totals["past_due_usd"], cur),
                help="Open balances of invoices past their due date.",
            ),
        ]
    ui.tiles(items, 4)
    if totals is not None and int(totals["open_missing_fx_rate"]):
        st.caption(
            f"{int(totals['open_missing_fx_rate'])} open invoices have no FX rate at the "
            "as-of date and are left out of the open balance."
        )
    if not fmt.is_missing(h["parent_account_id"]) and h["parent_account_id"] != account:
        st.button(
            "Open the parent account",
            key="open_parent",
            on_click=_open_account,
            args=(str(h["parent_account_id"]),),
            icon=":material/account_tree:",
        )


def _scope(f: Filters) -> str:
    """The caption saying which filters apply here."""
    period = f"{f.start:%b %Y} – {f.end:%b %Y}" if f.start and f.end else "the whole history"
    ignored = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in f.dimensions.items())
    dims = (
        f"The segment, region and product family filters ({ignored}) do not apply to one account."
        if ignored
        else "The segment, region and product family filters do not apply to one account."
    )
    return (
        f"MRR, movements, tickets and margin follow the period: **{period}**. Subscriptions, "
        "invoices, payments and implementation show the account's whole history up to the "
        f"as-of date. {dims}"
    )


def _selected_month(event: Any) -> Any:
    """The month of a point selected on the MRR chart, None without a selection."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    return fmt.as_date(points[0].get("x")) if points else None


def _mrr(wh: Warehouse, account: str, f: Filters, cur: Currency) -> None:
    st.subheader("MRR history")
    hist = query(wh, "mrr_history", account, f.start, f.end)
    month = None
    if hist.empty:
        st.info(
            "No MRR in this period: the account had no recurring subscription in force at any "
            "month's end of it."
        )
    else:
        event = st.plotly_chart(
            charts.mrr_trend(hist, cur),
            width="stretch",
            on_select="rerun",
            selection_mode="points",
            key="mrr360_chart",
        )
        month = _selected_month(event)
    if not ui.has(wh, "fct_mrr_movements"):
        ui.not_built("fct_mrr_movements", "MRR movements")
        return
    moves = query(wh, "mrr_movements", account, f.start, f.end)
    if month is not None:
        moves = moves[moves["month"].map(fmt.as_date) == month]
    if moves.empty:
        st.info(
            f"No MRR movements in {fmt.month_label(month)}."
            if month is not None
            else "No MRR movements in this period: the account's MRR did not change."
        )
        return
    hint = (
        "clear the chart selection for the whole period"
        if month is not None
        else "select a month on the chart for its movements only"
    )
    st.caption(
        f"Movements{'' if month is None else ' of ' + fmt.month_label(month)}, newest first, by "
        "type and cause (a churn is split into cancel, pause and downgrade to zero), in the "
        f"account's currency and in the reporting currency; {hint}."
    )
    ui.table(moves, cur, money=["amount"], key="moves360")


def _subscriptions(wh: Warehouse, account: str, cur: Currency) -> None:
    st.subheader("Subscriptions")
    segs = query(wh, "subscription_segments", account)
    if segs.empty:
        st.info("This account has no subscriptions: it has never had a plan in force.")
        return
    st.caption(
        f"{segs['subscription_id'].nunique():,} subscriptions in {len(segs):,} segments (one "
        "plan, quantity, price and status each; valid to is exclusive, empty while open). Unit "
        "price per billing period and MRR in the subscription's currency."
    )
    ui.table(
        segs.assign(product_family=segs["product_family"].map(charts.family_label)),
        cur,
        money=["quantity", "unit_price", "mrr"],
        labels={"mrr": "MRR", "product_name": "Plan name"},
        key="segs360",
    )


def _invoices(wh: Warehouse, account: str, cur: Currency) -> None:
    st.subheader("Invoices and payments")
    inv = query(wh, "account_invoices", account)
    if inv.empty:
        st.info("No invoices have been issued to this account by the as-of date.")
        return
    st.caption(
        f"{len(inv):,} invoices, newest first. Amounts in the invoice's currency; the open "
        "balance also in the reporting currency at the as-of date's rate; days past due only "
        "where a balance is open. Select an invoice for its payment attempts."
    )
    event = st.dataframe(
        inv,
        width="stretch",
        hide_index=True,
        column_config=ui.money_config(inv, cur, INVOICE_MONEY, INVOICE_LABELS),
        on_select="rerun",
        selection_mode="single-row",
        key="inv360",
        height=320,
    )
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    invoice = inv.iloc[rows[0]]["invoice_id"] if rows else None
    if not ui.has(wh, "fct_payments"):
        ui.not_built("fct_payments", "Payment attempts")
        return
    pays = query(wh, "account_payments", account, invoice)
    st.markdown(
        f"**Payment attempts of invoice `{invoice}`**"
        if invoice is not None
        else "**Payment attempts** (all invoices)"
    )
    if pays.empty:
        st.info(
            "No payment has been attempted on this invoice."
            if invoice is not None
            else "No payment has been attempted by this account."
        )
        return
    st.caption(
        f"{len(pays):,} payments, latest first; amounts in the payment's currency and in the "
        "reporting currency at the attempt date's rate. Refunds are listed but are not attempts; "
        "payments on void invoices are listed but not counted in receivables."
    )
    ui.table(
        pays,
        cur,
        money=["amount"],
        labels={
            "attempted_at": "Attempted (UTC)",
            "counts_in_receivables": "Counted in receivables",
            "is_missing_fx_rate": "No FX rate",
        },
        key="pays360",
    )


def _tickets(wh: Warehouse, account: str, f: Filters, cur: Currency) -> None:
    st.subheader("Support tickets")
    tickets = query(wh, "account_tickets", account, f.start, f.end)
    if tickets.empty:
        st.info("This account created no support tickets in this period.")
        return
    st.caption(
        f"{len(tickets):,} tickets created in the period, newest first. Hours are measured at the "
        "as-of time; SLA met is empty while a ticket is unanswered inside its target (urgent 1 h, "
        "high 4 h, normal 24 h, low 72 h)."
    )
    ui.table(
        tickets,
        cur,
        money=["first_response_hours", "resolution_hours", "handle_minutes"],
        labels={
            "created_at": "Created (UTC)",
            "sla_met": "SLA met",
            "sla_target_hours": "SLA target (hours)",
            "csat_score": "CSAT",
        },
        key="tickets360",
    )


def _implementation(wh: Warehouse, account: str, cur: Currency) -> None:
    st.subheader("Implementation")
    impl = query(wh, "account_implementations", account)
    if impl.empty:
        st.info("This account has no implementation project.")
        return
    overdue = int(impl["is_overdue"].sum())
    if overdue:
        st.warning(
            f"{overdue} implementation{'s are' if overdue > 1 else ' is'} overdue: not live, not "
            "cancelled and past the target go-live date.",
            icon=":material/schedule:",
        )
    ui.table(
        impl,
        cur,
        money=["hours_logged"],
        labels={"is_overdue": "Overdue", "cycle_days": "Cycle days (signed → live)"},
        key="impl360",
    )


def _margin(wh: Warehouse, account: str, f: Filters, cur: Currency) -> None:
    st.subheader("Margin")
    margin = query(wh, "account_margin_months", account, f.start, f.end)
    if margin.empty:
        st.info("No revenue or cost to serve for this account in this period.")
        return
    st.caption(
        "Recognized revenue, cost to serve by kind and gross margin per month, newest first "
        "(the as-of month to date); margin % is n/a where revenue is 0."
    )
    ui.table(
        margin.assign(
            month=margin["month"].map(fmt.month_label),
            gross_margin_pct=margin["gross_margin_pct"].map(
                lambda v: NA if fmt.is_missing(v) else fmt.pct(v)
            ),
        ),
        cur,
        labels={
            "cogs_vendor_usd": "Vendor COGS",
            "cogs_support_usd": "Support COGS",
            "cogs_implementation_usd": "Implementation COGS",
            "cogs_usd": "COGS",
            "gross_margin_pct": "Gross margin %",
            "revenue_missing_fx_rows": "Revenue rows without FX rate",
        },
        key="margin360",
    )


def render(wh: Warehouse) -> None:
    st.title("Account 360")
    ui.build_caption(wh)
    cur = ui.currency(wh)
    for mart in HEADER_MARTS:
        if not ui.has(wh, mart):
            ui.not_built(mart, "Accounts and their MRR")
            return
    account = _choose(wh)
    if account is None:
        st.info(
            "Choose an account to see its MRR, subscriptions, invoices and payments, tickets, "
            "implementation and margin — or open one from a list on another page (a link with "
            "`?account=<id>` opens it directly).",
            icon=":material/person_search:",
        )
        return
    f = sidebar.current()
    _header(wh, account, cur)
    st.caption(_scope(f))
    _mrr(wh, account, f, cur)
    _subscriptions(wh, account, cur)
    if ui.has(wh, "fct_issued_invoices"):
        _invoices(wh, account, cur)
    else:
        ui.not_built("fct_issued_invoices", "Invoices and payments")
    if ui.has(wh, "fct_tickets"):
        _tickets(wh, account, f, cur)
    else:
        ui.not_built("fct_tickets", "Support tickets")
    if ui.has(wh, "onboarding"):
        _implementation(wh, account, cur)
    else:
        ui.not_built("onboarding", "Implementation")
    if ui.has(wh, "account_margin_monthly"):
        _margin(wh, account, f, cur)
    else:
        ui.not_built("account_margin_monthly", "Margin")


ui.guarded(render)
