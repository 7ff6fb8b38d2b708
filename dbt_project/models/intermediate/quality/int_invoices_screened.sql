-- rule: Q1 unknown accounts. Issued invoices that count: not of an unknown account.
-- Every row of stg_billing__invoices except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__invoices', 'billing.invoices', 'invoice_id') }}
