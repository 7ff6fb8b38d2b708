-- rule: R7 COGS (split: R1). Vendor bills with cost_type cogs (latest version, not deleted), spread by
-- day over [service_period_start, service_period_end) into calendar months with R1's exact split:
-- month k's share = round(A·cum_k/T) − round(A·cum_(k−1)/T) in the bill's currency, so a bill's months
-- sum exactly to its amount (rounded to cents). Decisions:
-- * every status (received, approved, paid, disputed) is incurred cost: a disputed bill is still the
--   vendor's charge for the service until a credit arrives (a corrected bill replaces the amount);
-- * a bill with service_period_end <= service_period_start is a one-day service on service_period_start;
-- * only bills dated on or before the as-of date and served by then; months up to the as-of month,
--   and in the as-of month only the days up to and including the as-of date (as R4's recognized to
--   date); a later build adds the rest;
-- * each month's share is converted at month_snapshot_day(month) (month aggregate rate, like revenue's
--   recognized_usd); no rate → cogs_usd NULL and is_missing_fx_rate, never zero.
-- * a bill with neither account nor family takes the family accepted for it in the seed
--   accepted_vendor_families (A6 vendor cost matching; a mere suggestion changes nothing).
with accepted as (
    select
        bill_id,
        max(product_family) as product_family
    from {{ ref('accepted_vendor_families') }}
    group by bill_id
),

bills as (
    select
        b.bill_id,
        b.vendor_id,
        b.account_id,
        case when b.account_id is null then coalesce(b.product_family, a.product_family) else b.product_family end as product_family,
        b.currency,
        b.status,
        b.bill_date,
        {{ round_money('b.amount') }} as amount,
        b.service_period_start as service_start,
        case
            when b.service_period_end > b.service_period_start then b.service_period_end
            else {{ add_days(1, 'b.service_period_start') }}
        end as service_end
    from {{ ref('int_vendor_bills_screened') }} as b
    left join accepted as a on b.bill_id = a.bill_id
    where
        b.cost_type = 'cogs'
        and not b.is_deleted
        and b.bill_date <= {{ as_of_date() }}
        and b.service_period_start <= {{ as_of_date() }}
),

cumulated as (
    {{ months_of_service('bills') }}
),

cumulated_to_date as (
    select
        *,
        case
            when month < {{ month_start(as_of_date()) }} then cum_days
            when service_end <= {{ as_of_date() }} then cum_days
            else {{ days_between('service_start', add_days(1, as_of_date())) }}
        end as cum_days_to_date
    from cumulated
    where month <= {{ month_start(as_of_date()) }}
)

select
    c.bill_id,
    c.vendor_id,
    c.account_id,
    c.product_family,
    c.status,
    c.month,
    c.currency,
    c.amount as bill_amount,
    cast({{ cent_share('c.amount', 'c.cum_days_to_date', 'c.prev_cum_days', 'c.total_days') }} as decimal(18, 2))
        as cogs,
    cast({{ to_reporting(cent_share('c.amount', 'c.cum_days_to_date', 'c.prev_cum_days', 'c.total_days'), 'fx') }} as decimal(18, 2))
        as cogs_usd,
    fx.units_per_usd is null as is_missing_fx_rate
from cumulated_to_date as c
{{ fx_join('fx', 'c.currency', month_snapshot_day('c.month')) }}
