-- Incremental facts: the accounts whose rows this build recomputes (all their months). An account
-- whose segments, one-time charges or credit notes changed, or with a subscription whose usage of a
-- month before the window changed (late usage; usage in the window is recomputed anyway); then
-- every account sharing a subscription with one of those (a subscription's rows move together).
-- Accounts that lost every input are included (their rows are deleted).
with changed as (
    select
        kind,
        state_key,
        {{ dbt.split_part('state_key', "'|'", 1) }} as subscription_id,
        coalesce(since, previous_since) as since
    from {{ ref('int_incremental_state') }}
    where is_changed
),

changes_window as (
    select window_start
    from {{ ref('int_changed_window') }}
),

segments as (
    select distinct
        subscription_id,
        account_id
    from {{ ref('int_subscription_segments_merged') }}
),

direct as (
    select state_key as account_id
    from changed
    where kind in ('segments', 'one_time', 'credit_notes')

    union

    select s.account_id
    from changed as c
    inner join segments as s on c.subscription_id = s.subscription_id
    cross join changes_window as w
    where c.kind = 'usage' and (w.window_start is null or c.since < w.window_start)
)

select d.account_id
from direct as d

union

select shared.account_id
from direct as d
inner join segments as own on d.account_id = own.account_id
inner join segments as shared on own.subscription_id = shared.subscription_id
