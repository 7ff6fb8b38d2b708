-- rule: Q1 unknown accounts. Usage that counts: not of an unknown account, nor of a subscription left out.
-- Every row of stg_billing__usage except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__usage', 'billing.usage', 'usage_id') }}
