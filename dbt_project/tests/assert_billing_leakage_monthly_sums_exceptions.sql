-- rule: R9. billing_leakage_monthly adds up billing_exceptions exactly: per month, the exception counts
-- by type and leakage_usd; and no exception falls outside the monthly spine. Returns breaks.
with exceptions as (
    select
        month,
        count(*) as exceptions,
        sum(case when exception_type = 'missing_in_billing' then 1 else 0 end) as missing_in_billing,
        sum(case when exception_type = 'unexpected_in_billing' then 1 else 0 end) as unexpected_in_billing,
        sum(case when exception_type = 'amount_mismatch' then 1 else 0 end) as amount_mismatch,
        coalesce(sum(leakage_usd), 0) as leakage_usd
    from {{ ref('billing_exceptions') }}
    group by month
)

select
    e.month,
    e.exceptions,
    m.exceptions as monthly_exceptions,
    e.leakage_usd,
    m.leakage_usd as monthly_leakage_usd
from exceptions as e
left join {{ ref('billing_leakage_monthly') }} as m on e.month = m.month
where m.month is null
    or e.exceptions <> m.exceptions
    or e.missing_in_billing <> m.missing_in_billing
    or e.unexpected_in_billing <> m.unexpected_in_billing
    or e.amount_mismatch <> m.amount_mismatch
    or e.leakage_usd <> m.leakage_usd
