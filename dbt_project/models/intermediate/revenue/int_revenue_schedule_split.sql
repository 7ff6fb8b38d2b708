-- rule: R1 exact split / R4 recognition. Each line is recognized by day over [service_start,
-- service_end) with month k's share = round(A·cum_k/T) − round(A·cum_(k−1)/T), so a schedule always
-- sums to its line. Usage (service = its month) and one-time (service = one day) fall out of the same
-- formula. Credit notes (issued, from billing) are single-month negative rows keyed by the credit note.
-- Two reporting-currency views: recognized_usd at the month's rate (R1 month aggregates) and
-- recognized_hist_usd, the same exact split of the line's amount_usd (rate of its invoice date),
-- which the deferred revenue roll-forward uses.
-- R4 as-of month: the *_to_date columns are what is recognized by the as-of date. Ratable lines
-- (recurring, proration) recognize in the as-of month only the days of service up to and including
-- the as-of date (cum counted to the as-of day in the same exact split), later months nothing; a
-- later build adds the rest, and the full schedule (recognized, all months) still sums to its line.
-- Usage (rated to date) and one-time / credit notes (dated on or before the as-of date) are unchanged.
-- Incremental (macros/incremental.sql): every month of changed accounts' lines and credit notes, and
-- the months in the window (of the lines served in it).
{{ incremental_fact('account_id', 'month') }}
with credit_notes as (
    select *
    from {{ ref('int_credit_notes_screened') }}
    where issued_date <= {{ as_of_date() }}
        and {{ changed_scope('account_id', 'issued_date') }}
),

credit_note_families as (
    select
        il.invoice_id,
        max(p.product_family) as product_family,
        count(distinct p.product_family) as n_families
    from {{ ref('int_invoice_lines_screened') }} as il
    inner join {{ ref('stg_billing__plans') }} as p on il.plan_id = p.plan_id
    where il.invoice_id in (select scn.invoice_id from credit_notes as scn)
    group by il.invoice_id
),

items as (
    select
        invoice_line_key,
        coalesce(subscription_id, invoice_line_key) as contract_key,
        account_id,
        product_family,
        line_type,
        invoice_date,
        service_start,
        service_end,
        amount,
        amount_usd,
        currency,
        is_billed
    from {{ ref('int_invoice_lines_unioned') }}
    where {{ changed_scope('account_id', add_days(-1, 'service_end')) }}

    union all

    select
        {{ dbt.concat(["'credit_note|'", 'cn.credit_note_id']) }} as invoice_line_key,
        {{ dbt.concat(["'credit_note|'", 'cn.credit_note_id']) }} as contract_key,
        cn.account_id,
        case when f.n_families = 1 then f.product_family end as product_family,
        'credit_note' as line_type,
        cn.issued_date as invoice_date,
        cn.issued_date as service_start,
        {{ add_days(1, 'cn.issued_date') }} as service_end,
        cast(0 - {{ round_money('cn.amount') }} as decimal(18, 2)) as amount,
        cast(0 - {{ to_reporting(round_money('cn.amount'), 'fx') }} as decimal(18, 2)) as amount_usd,
        cn.currency,
        true as is_billed
    from credit_notes as cn
    left join credit_note_families as f on cn.invoice_id = f.invoice_id
    {{ fx_join('fx', 'cn.currency', 'cn.issued_date') }}
),

cumulated as (
    {{ months_of_service('items') }}
),

cumulated_to_date as (
    select
        *,
        case
            when month > {{ month_start(as_of_date()) }} then prev_cum_days
            when month < {{ month_start(as_of_date()) }} or line_type not in ('recurring', 'proration') then cum_days
            when service_start > {{ as_of_date() }} then prev_cum_days
            when service_end <= {{ as_of_date() }} then cum_days
            else {{ days_between('service_start', add_days(1, as_of_date())) }}
        end as cum_days_to_date
    from cumulated
)

select
    c.invoice_line_key,
    c.month,
    c.contract_key,
    c.account_id,
    c.product_family,
    c.line_type,
    c.invoice_date,
    c.currency,
    c.is_billed,
    c.amount as line_amount,
    c.amount_usd as line_amount_usd,
    cast({{ cent_share('c.amount', 'c.cum_days', 'c.prev_cum_days', 'c.total_days') }} as decimal(18, 2))
        as recognized,
    cast({{ cent_share('c.amount_usd', 'c.cum_days', 'c.prev_cum_days', 'c.total_days') }} as decimal(18, 2))
        as recognized_hist_usd,
    cast({{ to_reporting(cent_share('c.amount', 'c.cum_days', 'c.prev_cum_days', 'c.total_days'), 'fx') }} as decimal(18, 2))
        as recognized_usd,
    cast({{ cent_share('c.amount', 'c.cum_days_to_date', 'c.prev_cum_days', 'c.total_days') }} as decimal(18, 2))
        as recognized_to_date,
    cast({{ cent_share('c.amount_usd', 'c.cum_days_to_date', 'c.prev_cum_days', 'c.total_days') }} as decimal(18, 2))
        as recognized_hist_usd_to_date,
    cast({{ to_reporting(cent_share('c.amount', 'c.cum_days_to_date', 'c.prev_cum_days', 'c.total_days'), 'fx') }} as decimal(18, 2))
        as recognized_usd_to_date
from cumulated_to_date as c
{{ fx_join('fx', 'c.currency', month_snapshot_day('c.month')) }}
where {{ changed_scope('c.account_id', 'c.month') }}
