-- rule: Q1 unknown accounts. Opportunities that count: not of an unknown account.
-- Every row of stg_crm__opportunities except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_crm__opportunities', 'crm.opportunities', 'opportunity_id') }}
