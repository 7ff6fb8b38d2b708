"""The planted truth beyond bad rows and exceptions: anomalous events, the causes of injected faults
and the true family of vendor bills written unassigned; what issue-15's detectors must find."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

#: why the billing system got a key wrong (billing_system.BillingSystem._cause)
EXCEPTION_CAUSES = {
    "backdated_amendment": "a change recorded after the period it changes had started",
    "proration_error": "a proration line billed at a wrong amount",
    "price_override": "a recurring or one-time line billed at a price other than the agreed one",
    "usage_rating_error": "a usage line rated at a wrong amount",
    "duplicate_line": "a line billed a second time (same subscription, overlapping period)",
    "missing_usage": "a usage line never billed",
    "missing_charge": "a one-time charge never billed",
    "skipped_billing_run": "a recurring line never billed",
}
#: the cause behind each injected fault of the loader's quarantine (reason code -> cause)
BAD_ROW_CAUSES = {
    "bad_type": "export_format",
    "bad_enum": "unmapped_code",
    "bad_currency": "manual_entry",
    "bad_country": "manual_entry",
    "out_of_range": "manual_entry",
    "missing_required": "incomplete_record",
    "negative_amount": "sign_convention",
    "duplicate_key": "duplicate_export",
    "unknown_reference": "orphan_reference",
    "no_fx_rate": "missing_reference_data",
    "stale_fx_rate": "missing_reference_data",
    "missing_column": "schema_change",
    "extra_column": "schema_change",
    "unreadable_file": "damaged_file",
    "malformed_record": "damaged_file",
    "truncated_record": "damaged_file",
    "misplaced_file": "landing_misuse",
    "bad_extract_id": "landing_misuse",
    "future_extract": "landing_misuse",
    "duplicate_extract": "landing_misuse",
    "outside_landing": "landing_misuse",
}


def cause_of_bad_row(reason_code: str, column: str) -> str:
    """The planted cause of an injected fault."""
    return BAD_ROW_CAUSES.get(reason_code, "unknown")


def write_planted_truth(
    truth: Path, anomalies: list[tuple], unassigned: list[tuple], last: dt.date
) -> None:
    """anomalies.csv (events up to the last extract's day) and unassigned_vendor_bills.csv."""
    with open(truth / "anomalies.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["account_id", "month", "kind", "rows", "detail"])
        for r in sorted(anomalies):
            if dt.date.fromisoformat(r[1]) <= last:
                w.writerow(r)
    with open(truth / "unassigned_vendor_bills.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["bill_id", "vendor_id", "true_family"])
        for r in sorted(unassigned):
            w.writerow(r)
