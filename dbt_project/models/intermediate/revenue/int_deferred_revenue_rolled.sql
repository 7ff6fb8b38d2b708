-- rule: R4 deferred revenue. Per line and month end: net = billed to date − recognized to date, in
-- the reporting currency at the line's historical rate (its invoice date: deferred revenue is a
-- non-monetary balance, not remeasured). One row per line per month of its active span only
-- (billing month to last recognized month). Lines are then netted per contract (ASC 606 presents
-- one net position per contract: here the subscription; a one-time charge or credit note alone),
-- so a proration credit reduces the deferred balance of the period it credits instead of showing
-- as unbilled. Net > 0 is deferred revenue, net < 0 unbilled revenue (usage recognized before its
-- invoice). Recognized is to date (R4): in the as-of month, ratable lines up to the as-of day.
-- Lines whose currency has no rate (amount_usd NULL) are excluded from reporting-currency totals.
with schedule as (
    select
        invoice_line_key,
        contract_key,
        month,
        recognized_hist_usd_to_date as recognized_hist_usd
    from {{ ref('int_revenue_schedule_split') }}
    where month <= {{ month_start(as_of_date()) }}
),

lines as (
    select
        l.invoice_line_key,
        l.contract_key,
        l.amount_usd,
        case when l.is_billed then {{ month_start('l.invoice_date') }} end as billing_month,
        min(s.month) as first_month,
        max(s.month) as last_month
    from (
        select
            invoice_line_key,
            contract_key,
            line_amount_usd as amount_usd,
            is_billed,
            invoice_date
        from {{ ref('int_revenue_schedule_split') }}
        group by invoice_line_key, contract_key, line_amount_usd, is_billed, invoice_date
    ) as l
    left join schedule as s on l.invoice_line_key = s.invoice_line_key
    where l.amount_usd is not null
    group by l.invoice_line_key, l.contract_key, l.amount_usd, l.is_billed, l.invoice_date
),

spans as (
    select
        invoice_line_key,
        contract_key,
        amount_usd,
        billing_month,
        case
            when first_month is null then billing_month
            when billing_month is null or first_month < billing_month then first_month
            else billing_month
        end as span_start,
        case
            when last_month is null then billing_month
            when billing_month is null or last_month > billing_month then last_month
            else billing_month
        end as span_end
    from lines
),

line_months as (
    select
        sp.invoice_line_key,
        sp.contract_key,
        {{ add_months('n.n', 'sp.span_start') }} as month,
        case when {{ add_months('n.n', 'sp.span_start') }} = sp.billing_month then sp.amount_usd else 0 end as billed_usd
    from spans as sp
    cross join {{ integers(10) }} as n
    where sp.span_start is not null
        and n.n <= {{ months_between('sp.span_start', 'sp.span_end') }}
),

line_balances as (
    select
        lm.invoice_line_key,
        lm.contract_key,
        lm.month,
        lm.billed_usd,
        coalesce(s.recognized_hist_usd, 0) as recognized_usd,
        sum(lm.billed_usd - coalesce(s.recognized_hist_usd, 0)) over (
            partition by lm.invoice_line_key order by lm.month
            rows between unbounded preceding and current row
        ) as net_usd
    from line_months as lm
    left join schedule as s on lm.invoice_line_key = s.invoice_line_key and lm.month = s.month
),

balances as (
    select
        contract_key,
        month,
        sum(billed_usd) as billed_usd,
        sum(recognized_usd) as recognized_usd,
        sum(net_usd) as net_usd
    from line_balances
    group by contract_key, month
)

select
    month,
    cast(sum(billed_usd) as decimal(18, 2)) as billings_usd,
    cast(sum(recognized_usd) as decimal(18, 2)) as recognized_usd,
    cast(sum(case when net_usd > 0 then net_usd else 0 end) as decimal(18, 2)) as deferred_usd,
    cast(sum(case when net_usd < 0 then 0 - net_usd else 0 end) as decimal(18, 2)) as unbilled_usd
from balances
group by month
