-- rule: Q1 unknown accounts. Vendor bills that count: none naming an unknown account (a bill without account_id counts).
-- Every row of stg_procurement__vendor_bills except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_procurement__vendor_bills', 'procurement.vendor_bills', 'bill_id') }}
