"""Class 4 for the marts: incremental dbt models equal a full build. A generated company is built
the way nightly builds see it — a full build of its first extract, then one incremental dbt run per
daily extract, the second with a backdated subscription amendment and late usage — and every mart
and intermediate table equals a full build of the same files, row for row. The late rows land in
their own past months, and only the accounts they touch are recomputed.

dbt runs in-process on one parsed manifest (models only: the data tests run in the build tests);
the loader loads each day's files as the build would."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner
from landing_fixture import write_csv

from pipelines.contract import TABLES, table
from pipelines.dbt_project import DUCKDB_PATH_VAR, PROJECT_DIGEST_VAR, project_digest
from pipelines.generate import generate
from pipelines.ingest.landing import scan_landing
from pipelines.ingest.load import load_table
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.warehouse.schema import ensure_schema

pytestmark = pytest.mark.slow

DAYS = ("2026-10-31", "2026-11-01", "2026-11-02")
FX_FIX = "2026-11-01T120000Z"  # a second extract of the second day: a corrected past FX rate
FX_FIXED_DAY = dt.date(2026, 9, 10)
LATE = "2026-11-02T120000Z"  # a second extract of the last day: the late rows
AMENDED_FROM = dt.date(2026, 7, 15)  # the backdated amendment's effective date
LATE_USAGE_DAY = dt.date(2026, 8, 10)
LATE_UNITS = Decimal(1000)
#: the change-tracking models differ by design (previous fingerprints, invocation ids)
TRACKING = ("int_incremental_state", "int_changed_accounts", "int_changed_window")


#: `dbt build` minus the tests: the models and the seeds they read (accepted vendor families).
NO_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


class Dbt:
    """dbt in this process, parsed once. Every warehouse file is named wh.duckdb: the manifest
    names the database after the file's stem."""

    def __init__(self, tmp: Path) -> None:
        self.common = [
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            *("--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet"),
        ]
        self.digest = project_digest()
        res = dbtRunner().invoke(
            ["parse", "--vars", json.dumps({DUCKDB_PATH_VAR: str(tmp / "wh.duckdb")}), *self.common]
        )
        assert res.success, res.exception
        self.manifest = res.result

    def run(self, db: Path, as_of: str, *args: str) -> list[str]:
        """`dbt build` without tests on `db` (models and the seeds they read); the messages of
        the nodes that failed (empty: success)."""
        dbt_vars = {"as_of_date": as_of, DUCKDB_PATH_VAR: str(db), PROJECT_DIGEST_VAR: self.digest}
        res = dbtRunner(manifest=self.manifest).invoke(
            ["build", *NO_TESTS, "--vars", json.dumps(dbt_vars), *args, *self.common]
        )
        if res.success:
            return []
        results = getattr(res.result, "results", None) or []
        return [str(r.message) for r in results if r.status == "error"] or [str(res.exception)]


def load(db: Path, landing: Path, through: str | None) -> None:
    """Load the extracts dated up to `through` (all when None) that `db` has not loaded yet."""
    db.parent.mkdir(parents=True, exist_ok=True)
    scan = scan_landing(landing, today=dt.date(2100, 1, 1))
    run_id = str(uuid.uuid4())
    with contextlib.closing(duckdb.connect(str(db))) as con:
        con.execute("SET TimeZone = 'UTC'")
        ensure_schema(con)
        for t in TABLES:
            files = scan.for_table(t)
            if through is not None:
                files = [f for f in files if f.extract_id[:10] <= through]
            load_table(con, t, files, run_id)


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    """Rows of one statement (read-write like dbt's own connection: in one process, DuckDB
    shares a file's database only between connections opened alike)."""
    with contextlib.closing(duckdb.connect(str(db))) as con:
        return con.execute(sql, list(params)).fetchall()


def fingerprints(db: Path) -> dict[str, tuple]:
    """Every mart and intermediate table: its row count and the sum of its rows' hashes."""
    with contextlib.closing(duckdb.connect(str(db))) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'intermediate') and table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            f"{s}.{n}": con.execute(  # names from the catalog
                f'select count(*), sum(hash(t)::hugeint) from {s}."{n}" as t'
            ).fetchall()[0]
            for s, n in names
            if n not in TRACKING
        }


def sample_difference(a: Path, b: Path, name: str) -> tuple[list[tuple], list[tuple]]:
    """A few rows only in `a`'s table `name` and a few only in `b`'s (to read a failure)."""
    got_a = set(rows(a, f"select * from {name}"))
    got_b = set(rows(b, f"select * from {name}"))
    return sorted(got_a - got_b, key=str)[:3], sorted(got_b - got_a, key=str)[:3]


@dataclass
class Late:
    """The late rows written into the last day's extracts, and what the warehouse held before."""

    amended_account: str
    amended_subscription: str
    added_mrr: Decimal
    usage_subscription: str
    mrr_before: dict[dt.date, Decimal]
    units_before: dict[dt.date, Decimal]


def write_late_rows(landing: Path, db: Path) -> Late:
    """A backdated amendment (+10 seats from AMENDED_FROM on a monthly subscription that has not
    changed since) and one late usage row (LATE_USAGE_DAY), picked from what `db` holds."""
    sub, acc, con_id, plan, qty, price, cur = rows(
        db,
        """select s.subscription_id, s.account_id, s.contract_id, s.plan_id, s.quantity,
                  s.unit_price, s.currency
           from intermediate.int_subscription_segments_merged as s
           where s.charge_type = 'recurring' and s.billing_period_months = 1
             and s.status = 'active' and s.valid_to is null and s.valid_from < '2026-05-01'
             and extract(day from s.anchor_date) not in (15, 29, 30, 31)
             and s.subscription_id not in (
                 select subscription_id from raw.billing__subscription_events
                 where effective_date >= ? or account_id <> s.account_id)
           order by s.subscription_id limit 1""",
        AMENDED_FROM,
    )[0]
    events = table("billing.subscription_events")
    write_csv(
        landing / events.source / events.name / f"{LATE}.csv",
        list(events.column_names),
        [
            {
                "event_id": "EVT-LATE-0001",
                "subscription_id": sub,
                "account_id": acc,
                "contract_id": con_id or "",
                "event_type": "change",
                "effective_date": AMENDED_FROM.isoformat(),
                "plan_id": plan,
                "quantity": str(qty + 10),
                "unit_price": str(price),
                "currency": cur,
                "recorded_at": "2026-11-02T09:00:00Z",
            }
        ],
    )
    usage_sub, usage_acc, metric = rows(
        db,
        """select u.subscription_id, u.account_id, max(u.usage_metric)
           from raw.billing__usage as u
           inner join intermediate.int_subscription_segments_merged as s
               on s.subscription_id = u.subscription_id and s.valid_to is null
               and s.charge_type = 'usage' and s.valid_from < '2026-07-01'
           where u.account_id <> ?
           group by all order by all limit 1""",
        acc,
    )[0]
    usage = table("billing.usage")
    write_csv(
        landing / usage.source / usage.name / f"{LATE}.csv",
        list(usage.column_names),
        [
            {
                "usage_id": "USG-LATE-0001",
                "subscription_id": usage_sub,
                "account_id": usage_acc,
                "usage_metric": metric,
                "quantity": str(LATE_UNITS),
                "occurred_at": f"{LATE_USAGE_DAY}T00:00:00Z",
                "received_at": "2026-11-02T08:00:00Z",
            }
        ],
    )
    return Late(
        acc,
        sub,
        Decimal(10) * price,
        usage_sub,
        dict(rows(db, "select month, mrr from marts.fct_mrr_monthly where account_id = ?", acc)),
        dict(
            rows(
                db,
                "select usage_month, units from intermediate.int_usage_rated_monthly "
                "where subscription_id = ?",
                usage_sub,
            )
        ),
    )


def write_fx_correction(landing: Path, db: Path) -> None:
    """A corrected EUR rate for FX_FIXED_DAY (the same key, a later extract wins)."""
    ((rate,),) = rows(
        db,
        "select units_per_usd from raw.reference__fx_rates where currency = 'EUR' "
        "and rate_date = ?",
        FX_FIXED_DAY,
    )
    fx = table("reference.fx_rates")
    write_csv(
        landing / fx.source / fx.name / f"{FX_FIX}.csv",
        list(fx.column_names),
        [{"rate_date": str(FX_FIXED_DAY), "currency": "EUR", "units_per_usd": str(rate + 1)}],
    )


@dataclass
class Builds:
    nightly: Path  # full build of the first day, then one incremental run per day
    full: Path  # a full refresh of the final landing folder
    late: Late
    dbt: Dbt
    windows: dict[str, dt.date | None]  # each nightly's window start


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("incremental_marts")
    landing = root / "landing"
    generate(
        landing, scale=0.2, seed=7, start=dt.date(2025, 1, 1), end=dt.date(2026, 10, 31), daily=2
    )
    dbt = Dbt(root)
    nightly = root / "nightly" / "wh.duckdb"
    late, windows = None, {}
    for day in DAYS:
        if day == DAYS[1]:
            write_fx_correction(landing, nightly)
        if day == DAYS[-1]:
            late = write_late_rows(landing, nightly)
        load(nightly, landing, day)
        assert dbt.run(nightly, day) == [], f"dbt run as of {day} failed"
        window = "select window_start from intermediate.int_changed_window"
        ((windows[day],),) = rows(nightly, window)
    full = root / "full" / "wh.duckdb"
    load(full, landing, None)
    assert dbt.run(full, DAYS[-1], "--full-refresh") == []
    assert late is not None
    return Builds(nightly, full, late, dbt, windows)


def test_nightly_incremental_runs_equal_a_full_build_row_for_row(builds):
    nightly, full = fingerprints(builds.nightly), fingerprints(builds.full)
    assert set(nightly) == set(full)
    assert len([n for n in full if n.startswith("marts.")]) >= 30
    different = {
        n: sample_difference(builds.nightly, builds.full, n)
        for n in sorted(full)
        if nightly[n] != full[n]
    }
    assert different == {}, different
    assert full["marts.fct_mrr_monthly"][0] and full["marts.fct_revenue_schedule"][0]


def test_each_nightly_recomputed_only_its_window_and_the_late_accounts(builds):
    """The first build computes everything. 1 November: the as-of date left October, and a
    corrected rate of 10 September changes every conversion from that day: from September.
    2 November: every account's November rows; before November only the accounts with late rows
    (and any other account whose inputs changed that day)."""
    assert builds.windows == {
        DAYS[0]: dt.date(1900, 1, 1),
        DAYS[1]: dt.date(2026, 9, 1),
        DAYS[2]: dt.date(2026, 11, 1),
    }
    db = builds.nightly
    changed = {r[0] for r in rows(db, "select account_id from intermediate.int_changed_accounts")}
    accounts = rows(db, "select count(*) from marts.dim_accounts")[0][0]
    usage_account = rows(
        db,
        "select distinct account_id from intermediate.int_subscription_segments_merged "
        "where subscription_id = ?",
        builds.late.usage_subscription,
    )
    assert {builds.late.amended_account, *(r[0] for r in usage_account)} <= changed
    assert len(changed) < accounts / 10


def test_backdated_amendment_changes_mrr_of_its_past_months_only(builds):
    late = builds.late
    after = dict(
        rows(
            builds.nightly,
            "select month, mrr from marts.fct_mrr_monthly where account_id = ?",
            late.amended_account,
        )
    )
    amended = dt.date(2026, 7, 1)
    for month, mrr in late.mrr_before.items():
        expected = mrr + late.added_mrr if month >= amended else mrr
        assert after[month] == expected, month
    # the amendment is billed as proration on its own day (R3)
    assert rows(
        builds.nightly,
        "select count(*) from marts.fct_invoice_lines "
        "where subscription_id = ? and line_type = 'proration' and invoice_date = ?",
        late.amended_subscription,
        AMENDED_FROM,
    ) == [(2,)]


def test_late_usage_lands_in_its_usage_month(builds):
    late = builds.late
    after = dict(
        rows(
            builds.nightly,
            "select usage_month, units from intermediate.int_usage_rated_monthly "
            "where subscription_id = ?",
            late.usage_subscription,
        )
    )
    month = LATE_USAGE_DAY.replace(day=1)
    for m, units in late.units_before.items():
        if m < dt.date(2026, 11, 1):  # November grows with the day's usage
            assert after[m] == (units + LATE_UNITS if m == month else units), m
    # its (already billed) usage line follows
    assert rows(
        builds.nightly,
        """select l.amount = r.amount from marts.fct_invoice_lines as l
           inner join intermediate.int_usage_rated_monthly as r
               on l.subscription_id = r.subscription_id and l.service_start = r.usage_month
           where l.subscription_id = ? and l.line_type = 'usage' and l.service_start = ?""",
        late.usage_subscription,
        month,
    ) == [(True,)]


def test_an_incremental_model_selected_without_its_change_set_is_rebuilt_whole(builds, tmp_path):
    """Selected alone (by hand), an incremental fact has no change set from its own dbt run: it
    must not apply the last one's, it recomputes every row."""
    db = tmp_path / "wh.duckdb"
    rows(builds.nightly, "checkpoint")
    db.write_bytes(builds.nightly.read_bytes())
    rows(db, "delete from marts.fct_mrr_monthly where month < '2026-01-01'")  # stale rows
    assert builds.dbt.run(db, DAYS[-1], "--select", "fct_mrr_monthly") == []
    query = "select * from marts.fct_mrr_monthly order by all"
    assert rows(db, query) == rows(builds.full, query)
