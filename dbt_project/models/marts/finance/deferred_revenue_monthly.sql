-- rule: R4 waterfall, reporting currency at each line's historical rate (its invoice date).
-- closing (deferred revenue) = opening + billings − recognized + unbilled_change, where
-- unbilled_change is the change in unbilled revenue (recognized before billed, usage); with no
-- unbilled revenue this is the plain opening + billings − recognized = closing.
with months as (
    select s.month
    from {{ month_spine(ref('int_deferred_revenue_rolled'), 'month') }} as s
),

filled as (
    select
        m.month,
        coalesce(r.billings_usd, 0) as billings_usd,
        coalesce(r.recognized_usd, 0) as recognized_usd,
        coalesce(r.deferred_usd, 0) as closing_usd,
        coalesce(r.unbilled_usd, 0) as unbilled_usd
    from months as m
    left join {{ ref('int_deferred_revenue_rolled') }} as r on m.month = r.month
)

select
    cast(f.month as date) as month,
    cast(coalesce(p.closing_usd, 0) as decimal(18, 2)) as opening_usd,
    cast(f.billings_usd as decimal(18, 2)) as billings_usd,
    cast(f.recognized_usd as decimal(18, 2)) as recognized_usd,
    cast(f.unbilled_usd - coalesce(p.unbilled_usd, 0) as decimal(18, 2)) as unbilled_change_usd,
    cast(f.closing_usd as decimal(18, 2)) as closing_usd,
    cast(f.unbilled_usd as decimal(18, 2)) as unbilled_usd
from filled as f
left join filled as p on p.month = {{ add_months(-1, 'f.month') }}
