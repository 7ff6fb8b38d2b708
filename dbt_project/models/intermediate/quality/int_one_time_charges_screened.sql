-- rule: Q1 unknown accounts. One-time charges that count: not of an unknown account.
-- Every row of stg_billing__one_time_charges except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__one_time_charges', 'billing.one_time_charges', 'charge_id') }}
