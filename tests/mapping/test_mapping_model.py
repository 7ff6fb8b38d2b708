"""The mapping model: shipped mappings validate against the contract, expressions are only
expressions, and the Stripe mapping reads only columns a real Fivetran sync has."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.mapping.expressions import ExpressionError, parse_expression
from pipelines.mapping.model import MAPPINGS_DIR, Mapping, MappingError, load_mapping
from pipelines.mapping.run import check_against_headers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHIPPED = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml"))


def _fivetran_headers() -> dict[str, list[str]]:
    d = FIXTURES / "stripe_fivetran_schema"
    return {
        p.name.removesuffix("_data.header.csv"): p.read_text().strip().split(",")
        for p in d.glob("*_data.header.csv")
    }


def test_the_four_mappings_ship():
    assert SHIPPED == ["procurement_csv", "salesforce", "stripe", "zendesk"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_mapping_validates_against_the_contract(name):
    m = load_mapping(name)
    assert m.name == name
    assert m.tables


def test_stripe_mapping_reads_only_columns_of_the_real_fivetran_schema():
    """Fails when the mapping reads a column Fivetran's Stripe tables do not have."""
    headers = _fivetran_headers()
    assert "subscription_history" in headers
    assert check_against_headers(load_mapping("stripe"), headers) == []


def test_the_schema_check_catches_a_column_the_sync_lacks():
    data = yaml.safe_load((MAPPINGS_DIR / "stripe.yml").read_text())
    data["tables"]["billing.invoices"]["columns"]["invoice_date"] = "invoice.created"
    problems = check_against_headers(Mapping.model_validate(data), _fivetran_headers())
    assert problems == ["invoice.created (for billing.invoices.invoice_date)"]


@pytest.mark.parametrize(
    "sql",
    [
        "upper(a) || b",
        "CASE WHEN x = 'y' THEN 1 ELSE 2 END",
        "CAST(a AS INTEGER) * 12",
        "lag(a) OVER (PARTITION BY b ORDER BY c)",
        "json_extract_string(metadata, '$.k')",
        '"Service To"',
    ],
)
def test_expressions_are_accepted(sql):
    parse_expression(sql, "test")


@pytest.mark.parametrize(
    "sql",
    [
        "1; DROP TABLE x",
        "(SELECT 1)",
        "a) FROM other --",
        "getenv('HOME')",
        "a) AS v, (b",
        "EXISTS (SELECT * FROM read_csv('/etc/passwd'))",
        "$1",
    ],
)
def test_anything_but_an_expression_is_refused(sql):
    with pytest.raises(ExpressionError):
        parse_expression(sql, "test")


def test_mapping_errors_name_the_table_and_column(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\nsystem: x\ntables:\n  billing.invoices:\n    from: inv\n"
        "    columns: {invoice_id: id}\n"
    )
    with pytest.raises(MappingError, match="required contract columns not mapped"):
        load_mapping(bad)
    bad.write_text("name: bad\nsystem: x\ntables:\n  billing.nope:\n    from: x\n    columns: {}\n")
    with pytest.raises(MappingError, match="not a contract table"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="shipped: procurement_csv, salesforce"):
        load_mapping("no_such_mapping")


def test_procurement_export_with_european_formats(tmp_path):
    """Decimal commas, day-first dates, Berlin local time and an inclusive end date."""
    import csv

    from pipelines.mapping.run import map_exports

    r = map_exports(
        load_mapping("procurement_csv"),
        FIXTURES / "procurement_csv",
        tmp_path,
        extract_id="2026-08-01",
    )
    assert r.rows_quarantined == 0 and r.rows_written == 6
    with (tmp_path / "procurement/vendor_bills/2026-08-01.csv").open() as fh:
        bills = {b["bill_id"]: b for b in csv.DictReader(fh)}
    assert bills["B-1"]["amount"] == "1000.2500"
    assert bills["B-1"]["service_period_end"] == "2026-02-01"  # 31.01 inclusive → exclusive
    assert bills["B-1"]["paid_at"] == "2026-02-14T11:00:00Z"  # CET
    assert bills["B-2"]["product_family"] == "" and bills["B-2"]["status"] == "approved"
    with (tmp_path / "procurement/purchase_orders/2026-08-01.csv").open() as fh:
        pos = {p["po_id"]: p for p in csv.DictReader(fh)}
    assert pos["PO-9002"]["requested_at"] == "2026-07-01T12:30:00Z"  # CEST
    assert pos["PO-9001"]["amount"] == "12000.0000"


def test_docs_mappings_md_is_current():
    from pipelines.mapping.docs import DOC_PATH, render

    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/mappings.md is stale: run `python -m pipelines.mapping.docs`"
    )


def test_the_worked_example_in_the_docs_runs(tmp_path):
    """The HubSpot example of docs/mappings.md, as printed, maps its sample export."""
    import csv
    import re

    from pipelines.mapping.docs import DOC_PATH
    from pipelines.mapping.run import map_exports

    page = DOC_PATH.read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w*)\n(.*?)```", page, flags=re.S)
    sample = next(b for lang, b in blocks if not lang and b.startswith("Record ID"))
    spec = next(b for lang, b in blocks if lang == "yaml" and "name: hubspot" in b)
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "companies.csv").write_text(sample)
    (tmp_path / "hubspot.yml").write_text(spec)
    r = map_exports(
        load_mapping(tmp_path / "hubspot.yml"), tmp_path / "export", tmp_path / "landing",
        extract_id="2026-11-27",
    )  # fmt: skip
    assert (r.rows_written, r.rows_quarantined) == (1, 0)
    with (tmp_path / "landing/crm/accounts/2026-11-27.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["segment"] == "mid_market" and row["region"] == "emea"
    assert row["industry"] == "software" and row["created_at"] == "2024-05-06T10:06:40Z"
