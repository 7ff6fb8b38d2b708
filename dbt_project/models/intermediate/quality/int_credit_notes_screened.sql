-- rule: Q1 unknown accounts. Credit notes that count: not of an unknown account, nor on an invoice of one.
-- Every row of stg_billing__credit_notes except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__credit_notes', 'billing.credit_notes', 'credit_note_id') }}
