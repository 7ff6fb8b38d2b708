-- rule: Q1 unknown accounts. Subscription events that count: a subscription with an event of an unknown account is left out whole.
-- Every row of stg_billing__subscription_events except those int_unknown_account_facts_listed lists; same columns.
{{ config(materialized='view') }}
{{ known_account_facts('stg_billing__subscription_events', 'billing.subscription_events', 'event_id') }}
