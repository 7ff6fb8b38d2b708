-- rule: Q1 unknown accounts. Issued invoice lines that count: not on an invoice of an unknown account.
-- Every row of stg_billing__invoice_lines except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__invoice_lines', 'billing.invoice_lines', 'invoice_line_id') }}
