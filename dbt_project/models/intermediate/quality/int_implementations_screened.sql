-- rule: Q1 unknown accounts. Implementations that count: not of an unknown account.
-- Every row of stg_support__implementations except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_support__implementations', 'support.implementations', 'implementation_id') }}
