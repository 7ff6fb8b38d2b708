-- rule: R7 implementation cost. hours_logged × services cost per hour (var services_cost_per_hour,
-- reporting currency, default 95), rounded to cents, spread evenly over the calendar months from the
-- kickoff month to the end month inclusive, with R1's exact split over months
-- (round(C·k/n) − round(C·(k−1)/n)), so the months sum exactly to the cost. Decisions:
-- * end = go_live_date when live; cancelled (no go-live) → the date of its last update (work stopped);
--   otherwise (not started, in progress, stalled) → the as-of date; never past the as-of date;
-- * no kickoff_date → the whole cost in the end month; a kickoff after the end → the end month;
-- * hours_logged is the project's total to date, so a later build re-spreads an open project;
-- * zero-cost (no hours) and deleted implementations are left out.
with implementations as (
    select
        implementation_id,
        account_id,
        status,
        kickoff_date,
        {{ round_money(mul_money('coalesce(hours_logged, 0)', "cast('" ~ var('services_cost_per_hour') ~ "' as decimal(18, 4))")) }}
            as cost_usd,
        case
            when go_live_date is not null then go_live_date
            when status = 'cancelled' then cast(updated_at as date)
            else {{ as_of_date() }}
        end as end_day
    from {{ ref('int_implementations_screened') }}
    where not is_deleted
),

bounded as (
    select
        implementation_id,
        account_id,
        status,
        cost_usd,
        {{ month_start("case when end_day > " ~ as_of_date() ~ " then " ~ as_of_date() ~ " else end_day end") }}
            as end_month,
        {{ month_start('kickoff_date') }} as kickoff_month
    from implementations
    where cost_usd <> 0
),

ranged as (
    select
        implementation_id,
        account_id,
        status,
        cost_usd,
        end_month,
        case
            when kickoff_month is null or kickoff_month > end_month then end_month
            else kickoff_month
        end as start_month
    from bounded
),

months as (
    select
        r.implementation_id,
        r.account_id,
        r.status,
        r.cost_usd,
        n.n + 1 as cum_months,
        {{ months_between('r.start_month', 'r.end_month') }} + 1 as total_months,
        {{ add_months('n.n', 'r.start_month') }} as month
    from ranged as r
    cross join {{ integers(10) }} as n
    where n.n <= {{ months_between('r.start_month', 'r.end_month') }}
)

select
    implementation_id,
    account_id,
    status,
    month,
    cost_usd as implementation_cost_usd,
    cast({{ cent_share('cost_usd', 'cum_months', '(cum_months - 1)', 'total_months') }} as decimal(18, 2))
        as cost_share_usd
from months
