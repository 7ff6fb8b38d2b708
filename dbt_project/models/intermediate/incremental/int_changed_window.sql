-- Incremental facts: one row, the first day from which this build recomputes every account's rows
-- (NULL: none). Rows are dated by month (revenue, MRR, usage) or by line date (invoice lines).
--   as-of date moved: from the month of the earlier of the two dates (what is billed, recognized or
--     in force to date changes from there on);
--   an FX rate changed from day D: from the month of D − 1 day (conversions on or after D change;
--     a usage line dated the 1st of a month serves the month before);
--   the price book or the code changed, or no previous state: from 1900-01-01, i.e. everything.
-- invocation_id: the incremental facts only accept a change set from their own dbt invocation.
with changed as (
    select *
    from {{ ref('int_incremental_state') }}
    where is_changed
),

starts as (
    select cast('1900-01-01' as date) as window_start
    from changed
    where kind in ('code', 'plans')

    union all

    select {{ month_start(
        'case when previous_since is null or since < previous_since then since else previous_since end'
    ) }} as window_start
    from changed
    where kind = 'as_of' and since is not null

    union all

    select {{ month_start(add_days(-1, 'coalesce(since, previous_since)')) }} as window_start
    from changed
    where kind = 'fx'
)

select
    -- 1900-01-01 at the earliest: everything (the USD range starts then)
    case
        when min(window_start) < cast('1900-01-01' as date) then cast('1900-01-01' as date)
        else min(window_start)
    end as window_start,
    '{{ invocation_id }}' as invocation_id
from starts
