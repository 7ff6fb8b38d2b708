-- rule: Q1 unknown accounts. Payments that count: not of an unknown account, nor against an invoice of one.
-- Every row of stg_billing__payments except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__payments', 'billing.payments', 'payment_id') }}
