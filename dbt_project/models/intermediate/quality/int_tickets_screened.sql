-- rule: Q1 unknown accounts. Support tickets that count: not of an unknown account.
-- Every row of stg_support__tickets except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_support__tickets', 'support.tickets', 'ticket_id') }}
