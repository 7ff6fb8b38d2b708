-- rule: R7 COGS completeness. Vendors bill in arrears (a month's hosting bill arrives after the month),
-- so the latest months' vendor COGS are incomplete until their bills arrive. Per month M (up to the
-- as-of month): the recurring COGS vendors expected to bill M — those with a COGS bill not tied to an
-- account whose service overlapped the 100 days before M — and how many of them have a bill, dated on
-- or before the as-of date, whose service period covers M's snapshot day (its last day; the as-of date
-- in the as-of month). A month with a vendor not yet billed is provisional: its vendor COGS will grow.
with bills as (
    select
        vendor_id,
        service_period_start,
        case
            when service_period_end > service_period_start then service_period_end
            else {{ add_days(1, 'service_period_start') }}
        end as service_period_end
    from {{ ref('stg_procurement__vendor_bills') }}
    where
        cost_type = 'cogs'
        and account_id is null
        and not is_deleted
        and bill_date <= {{ as_of_date() }}
),

months as (
    select s.month
    from {{ month_spine('bills', month_start('service_period_start')) }} as s
),

expected as (
    select distinct
        m.month,
        b.vendor_id
    from months as m
    inner join bills as b
        on b.service_period_start < m.month
            and b.service_period_end > {{ add_days(-100, 'm.month') }}
),

covered as (
    select distinct
        e.month,
        e.vendor_id
    from expected as e
    inner join bills as b
        on e.vendor_id = b.vendor_id
            and b.service_period_start <= {{ month_snapshot_day('e.month') }}
            and b.service_period_end > {{ month_snapshot_day('e.month') }}
)

select
    m.month,
    count(e.vendor_id) as vendors_expected,
    count(c.vendor_id) as vendors_billed,
    count(e.vendor_id) - count(c.vendor_id) as vendors_not_yet_billed
from months as m
left join expected as e on m.month = e.month
left join covered as c on e.month = c.month and e.vendor_id = c.vendor_id
group by m.month
