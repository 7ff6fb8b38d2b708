"""The Account 360 page on the warehouse the real pipeline built: opened by `?account=<id>` it
renders with that account's MRR, ARR and open balance equal to the marts' and lists exactly its
invoices and tickets; picking another account writes it to the URL; an unknown or malicious id
shows a note and runs nothing; every query binds the account id as a parameter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pipeline_warehouse
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib import fmt, queries_account
from dashboards.lib.cache import REGISTRY
from dashboards.lib.filters import Filters

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
PAGE = "app_pages/account_360.py"
MALICIOUS = "x'; DROP TABLE marts.dim_accounts; --"
USD = fmt.currency("USD")


def _sql(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql, params)


def _ok(at: AppTest) -> None:
    assert not at.exception and not at.error, (at.exception, at.error)


def _open(account: str) -> AppTest:
    """The app opened on the Account 360 page with `?account=<account>`."""
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.query_params["account"] = account
    at.run()
    at.switch_page(PAGE).run()
    _ok(at)
    return at


def _busy_account(path: Path) -> str:
    """An account with an open balance, payment attempts and tickets (the most tickets)."""
    return _sql(
        path,
        "SELECT i.account_id FROM marts.fct_issued_invoices AS i "
        "JOIN marts.fct_tickets AS t USING (account_id) GROUP BY 1 "
        "HAVING sum(i.open_amount) > 0 AND sum(i.payment_attempts) > 0 "
        "ORDER BY count(DISTINCT t.ticket_id) DESC, 1 LIMIT 1",
    )[0][0]


def _frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_a_linked_account_shows_its_marts(warehouse: Path) -> None:
    account = _busy_account(warehouse)
    at = _open(account)
    assert at.title[0].value == "Account 360"
    assert at.selectbox(key="account_pick").value == account
    (mrr_usd, name) = _sql(
        warehouse,
        "SELECT current_mrr_usd, account_name FROM marts.dim_accounts WHERE account_id = ?",
        [account],
    )[0]
    (month_mrr, arr) = _sql(
        warehouse,
        "SELECT mrr_usd, arr_usd FROM marts.fct_mrr_monthly WHERE account_id = ? "
        "AND month = (SELECT max(month) FROM marts.fct_mrr_monthly)",
        [account],
    )[0]
    assert mrr_usd == month_mrr  # dim_accounts' current MRR is the as-of month's
    (open_usd,) = _sql(
        warehouse,
        "SELECT sum(open_usd) FROM marts.fct_issued_invoices WHERE account_id = ?",
        [account],
    )[0]
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Current MRR"] == fmt.money(mrr_usd, USD)
    assert tiles["ARR"] == fmt.money(arr, USD)
    assert tiles["Open balance"] == fmt.money(open_usd, USD)
    assert at.subheader[0].value.startswith(str(name))
    # its invoices, all of them; its tickets of the period (the default filters' 12 months)
    invoices = _frame(at, "invoice_date")
    want = _sql(
        warehouse,
        "SELECT invoice_id FROM marts.fct_issued_invoices WHERE account_id = ?",
        [account],
    )
    assert sorted(invoices["invoice_id"]) == sorted(r[0] for r in want)
    assert sum(Decimal(str(v)) for v in invoices["open_usd"].dropna()) == open_usd
    f = at.session_state["subops_filters"]
    assert isinstance(f, Filters) and f.start and f.end
    tickets = _frame(at, "sla_met")
    want = _sql(
        warehouse,
        "SELECT ticket_id FROM marts.fct_tickets WHERE account_id = ? "
        "AND created_month BETWEEN ? AND ?",
        [account, f.start, f.end],
    )
    assert sorted(tickets["ticket_id"]) == sorted(r[0] for r in want)
    assert any("do not apply to one account" in c.value for c in at.caption)
    # picking another account shows it and puts it in the URL (a shareable view)
    other = next(a for a in at.selectbox(key="account_pick").options if a != account)
    other_id = other.rsplit(" · ", 1)[1].removesuffix(" (deleted)")
    at.selectbox(key="account_pick").set_value(other_id).run()
    _ok(at)
    assert at.query_params["account"] in (other_id, [other_id])


@pytest.mark.parametrize("bad", [MALICIOUS, "A-99999999"])
def test_an_unknown_account_shows_a_note(warehouse: Path, bad: str) -> None:
    at = _open(bad)
    assert at.selectbox(key="account_pick").value is None
    notes = " ".join(w.value for w in at.warning)
    assert "no account" in notes and bad in notes
    assert not at.metric and any("Choose an account" in i.body for i in at.info)
    assert _sql(warehouse, "SELECT count(*) FROM marts.dim_accounts")[0][0] > 0


def test_every_query_binds_the_account_id(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(REGISTRY[n] is f for n, f in queries_account.QUERIES.items())  # no name clash
    for name, fn in queries_account.QUERIES.items():  # on the build: nothing for a bad id
        if name == "invoice_totals":
            assert fn(warehouse, MALICIOUS)["invoices"].tolist() == [0]
        elif name != "account_options":
            assert fn(warehouse, MALICIOUS).empty, name
    assert (
        len(queries_account.account_options(warehouse))
        == (_sql(warehouse, "SELECT count(*) FROM marts.dim_accounts")[0][0])
    )
    seen: list[tuple[str, list]] = []
    monkeypatch.setattr(
        queries_account, "read", lambda _p, sql, params=(): seen.append((sql, list(params)))
    )
    for name, fn in queries_account.QUERIES.items():
        if name == "account_options":
            continue
        seen.clear()
        fn(warehouse, MALICIOUS)
        ((sql, params),) = seen
        assert MALICIOUS not in sql and "DROP" not in sql and params[0] == MALICIOUS, name


def test_payments_of_an_invoice_tie_to_its_attempts(warehouse: Path) -> None:
    """The page's invoice drill-down lists fct_payments of that invoice; its attempts counted in
    receivables are fct_issued_invoices.payment_attempts."""
    account = _busy_account(warehouse)
    invoices = queries_account.account_invoices(warehouse, account)
    row = invoices[invoices["payment_attempts"] > 0].iloc[0]
    pays = queries_account.account_payments(warehouse, account, row["invoice_id"])
    assert set(pays["invoice_id"]) == {row["invoice_id"]}
    attempts = pays[pays["status"].isin(["succeeded", "failed"]) & pays["counts_in_receivables"]]
    assert len(attempts) == row["payment_attempts"]
