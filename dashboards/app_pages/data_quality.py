"""Data quality: how fresh each source is, what the last loads read, loaded and quarantined,
why, the breaches reported on loaded rows, the facts left out of the totals, and the build
history."""

from __future__ import annotations

import streamlit as st

from dashboards.lib import charts, fmt, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.fmt import Currency
from dashboards.lib.queries import STALE_AFTER_DAYS

ALL = "All reasons"


def _loads(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Loads")
    if not ui.has(wh, "load_log", "audit"):
        ui.not_built("load_log", "Load log", schema="audit")
        return
    summary = query(wh, "load_summary")
    if not summary.empty:
        last = summary.iloc[0]
        cols = st.columns(4)
        for box, (col, label, why) in zip(
            cols,
            [
                ("files", "Files", "Extract files this run loaded or rejected (audit.load_log)."),
                ("rows_read", "Rows read", "Rows read from those files."),
                ("rows_loaded", "Rows loaded", "Rows written to the raw tables."),
                (
                    "rows_quarantined",
                    "Rows quarantined",
                    "Rejected rows (by reason, below) plus the rows of whole files rejected "
                    "(Rejected files, below).",
                ),
            ],
            strict=True,
        ):
            value = last.get(col)
            box.metric(
                label, "—" if fmt.is_missing(value) else f"{int(value):,}", border=True, help=why
            )
        st.caption(f"Latest load: run `{last['run_id']}`.")
    ui.table(query(wh, "load_log"), cur, height=320)


def _freshness(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Freshness per source")
    if not ui.has(wh, "load_log", "audit"):
        ui.not_built("load_log", "Load log", schema="audit")
        return
    fresh = query(wh, "source_freshness")
    if fresh.empty:
        st.caption("No extract has been loaded yet.")
        return
    stale = fresh[fresh["stale"].astype(bool)]
    days = STALE_AFTER_DAYS
    if stale.empty:
        st.success(
            f"Every table's latest extract is at most {days} days older than the as-of date.",
            icon=":material/check:",
        )
    else:
        names = ", ".join(f"{s}.{t}" for s, t in zip(stale["source"], stale["table"], strict=True))
        st.warning(f"{len(stale):,} table(s) older than {days} days at the as-of date: {names}.")
    st.caption(
        "Latest extract loaded per source table (superseded and rejected files left out), its "
        "date and its age in days at the build's as-of date."
    )
    ui.table(fresh, cur, height=320)


def _quarantine(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Quarantine")
    if not ui.has(wh, "rows", "quarantine"):
        ui.not_built("rows", "Quarantined rows", schema="quarantine")
        return
    reasons = query(wh, "quarantine_reasons")
    if reasons.empty:
        st.success("No rows were quarantined.")
        return
    left, right = st.columns([2, 3], gap="medium")
    with left:
        st.plotly_chart(
            charts.counts_bar(reasons, "reason", "rows", "Rejected rows by reason"), width="stretch"
        )
    with right:
        choice = st.selectbox(
            "Sample of reason", [ALL, *reasons["reason"].dropna().unique()], key="q_reason"
        )
        sample = query(wh, "quarantine_sample", None if choice == ALL else choice, 50)
        st.dataframe(sample.astype(str), width="stretch", hide_index=True, height=300)
    st.markdown("**Top reasons per table** (rejected rows, and whole files with their rows)")
    ui.table(query(wh, "quarantine_top_reasons"), cur, height=300)
    with st.expander("Rejected rows by reason, source and table"):
        ui.table(reasons, cur)
    if ui.has(wh, "files", "quarantine"):
        files = query(wh, "quarantine_files")
        if files.empty:
            st.caption("No whole file was rejected.")
        else:
            st.markdown(f"**Rejected files** ({len(files):,})")
            ui.table(files, cur)


def _breaches(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Reported breaches")
    if not ui.has(wh, "reference_breaches", "audit"):
        ui.not_built("reference_breaches", "Reported breaches", schema="audit")
        return
    summary = query(wh, "reference_breach_summary")
    if summary.empty:
        st.success("No breach was reported: every id, FX rate and payment is plausible.")
        return
    st.caption(
        f"{int(summary['rows'].sum()):,} loaded rows break a referential or plausibility rule "
        "(unknown ids, missing or stale FX rates, over-payments). They stay loaded; each row "
        "names its file, row and the fix."
    )
    ui.table(summary, cur, height=240)
    choice = st.selectbox(
        "Breaches of reason", [ALL, *summary["reason_code"].dropna().unique()], key="b_reason"
    )
    sample = query(wh, "reference_breach_sample", None if choice == ALL else choice, 50)
    st.dataframe(sample.astype(str), width="stretch", hide_index=True, height=300)


def _excluded(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Facts left out of the totals")
    if not ui.has(wh, "excluded_facts"):
        ui.not_built("excluded_facts", "Facts left out of the totals")
        return
    df = query(wh, "excluded_facts")
    n = int(df["excluded_rows"].sum())
    st.metric("Facts of unknown accounts left out", f"{n:,}", border=True)
    if n == 0:
        st.success("Every fact names a known account: nothing is left out of the totals.")
        return
    st.caption(
        "These rows name an account crm.accounts does not have (or hang on a subscription or "
        "invoice that does): they count in no revenue, MRR, billing, cash, bookings or margin "
        "figure until the account arrives or the id is fixed."
    )
    ui.table(df[df["excluded_rows"] > 0], cur)


def _checks(wh: Warehouse, run: dict, cur: Currency) -> None:
    st.subheader("Checks")
    if not ui.has(wh, "check_results", "audit"):
        ui.not_built("check_results", "Check results", schema="audit")
        return
    run_id = run.get("run_id")
    checks = query(wh, "check_results", run_id)
    if checks.empty:
        st.caption("No check results recorded for this build.")
        return
    failed = checks[~checks["passed"].astype(bool)]
    label = f"run `{run_id}`" if run_id else "this build"
    if failed.empty:
        st.success(f"All {len(checks):,} checks of {label} passed.", icon=":material/check:")
    else:
        st.error(f"{len(failed):,} of {len(checks):,} checks of {label} failed.")
        ui.table(failed, cur)
    with st.expander(f"All checks of {label}"):
        ui.table(checks, cur, height=320)


def _runs(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Build history")
    if not ui.has(wh, "runs", "audit"):
        ui.not_built("runs", "Build runs", schema="audit")
        return
    ui.table(query(wh, "runs_history"), cur)


def _coverage(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Marts in this build")
    cov = query(wh, "mart_coverage")
    built = int(cov["built"].sum())
    st.caption(f"{built} of {len(cov)} marts of the warehouse contract are built.")
    left, right = st.columns([2, 3], gap="medium")
    with left:
        st.dataframe(
            cov,
            width="stretch",
            hide_index=True,
            height=300,
            column_config={"built": st.column_config.CheckboxColumn("built")},
        )
    with right:
        st.markdown("**Billing exceptions (revenue leakage)**")
        if ui.has(wh, "billing_exceptions"):
            ui.table(query(wh, "billing_exception_summary"), cur)
        else:
            ui.not_built("billing_exceptions", "Billing exceptions")


def render(wh: Warehouse) -> None:
    st.title("Data quality")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    _freshness(wh, cur)
    _loads(wh, cur)
    _checks(wh, run, cur)
    _quarantine(wh, cur)
    _breaches(wh, cur)
    _excluded(wh, cur)
    _runs(wh, cur)
    _coverage(wh, cur)


ui.guarded(render)
