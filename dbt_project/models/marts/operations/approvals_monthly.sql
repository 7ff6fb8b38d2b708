-- rule: R10 approval cycle. Per month (first submission's month to the as-of month) and kind:
-- submitted in M, approved in M (approved_at in M), pending at M's end (submitted by then and not yet
-- approved or rejected; the as-of time in the as-of month), the median cycle_hours of those approved
-- in M, and the segregation-of-duties breaches approved in M (a breach not approved yet counts in
-- its submission month).
with kinds as (
    select 'contract' as kind
    union all
    select 'purchase_order' as kind
),

months as (
    select
        s.month,
        k.kind
    from {{ month_spine(ref('int_approvals_unioned'), month_start('submitted_at')) }} as s
    cross join kinds as k
),

month_ends as (
    select
        month,
        kind,
        case
            when {{ add_months(1, 'month') }} > {{ as_of_date() }} then {{ as_of_end_ts() }}
            else cast({{ add_months(1, 'month') }} as {{ dbt.type_timestamp() }})
        end as month_end_ts
    from months
),

submitted as (
    select
        kind,
        {{ month_start('submitted_at') }} as month,
        count(*) as submitted
    from {{ ref('int_approvals_unioned') }}
    group by kind, {{ month_start('submitted_at') }}
),

approved as (
    select
        kind,
        {{ month_start('approved_at') }} as month,
        count(*) as approved,
        {{ median('cycle_hours') }} as cycle_hours_p50
    from {{ ref('int_approvals_unioned') }}
    where status = 'approved' and approved_at is not null
    group by kind, {{ month_start('approved_at') }}
),

breaches as (
    select
        kind,
        {{ month_start('coalesce(approved_at, submitted_at)') }} as month,
        count(*) as sod_breaches
    from {{ ref('int_approvals_unioned') }}
    where sod_breach
    group by kind, {{ month_start('coalesce(approved_at, submitted_at)') }}
),

pending as (
    select
        m.kind,
        m.month,
        count(a.approval_key) as pending_at_month_end
    from month_ends as m
    inner join {{ ref('int_approvals_unioned') }} as a
        on m.kind = a.kind
            and a.submitted_at < m.month_end_ts
            and (a.decided_at is null or a.decided_at >= m.month_end_ts)
            and (a.status <> 'approved' or a.approved_at is not null)
    group by m.kind, m.month
)

select
    cast(m.month as date) as month,
    cast(m.kind as {{ dbt.type_string() }}) as kind,
    cast(coalesce(s.submitted, 0) as {{ dbt.type_bigint() }}) as submitted,
    cast(coalesce(a.approved, 0) as {{ dbt.type_bigint() }}) as approved,
    cast(coalesce(p.pending_at_month_end, 0) as {{ dbt.type_bigint() }}) as pending_at_month_end,
    cast(a.cycle_hours_p50 as decimal(18, 2)) as cycle_hours_p50,
    cast(coalesce(br.sod_breaches, 0) as {{ dbt.type_bigint() }}) as sod_breaches
from month_ends as m
left join submitted as s on m.kind = s.kind and m.month = s.month
left join approved as a on m.kind = a.kind and m.month = a.month
left join pending as p on m.kind = p.kind and m.month = p.month
left join breaches as br on m.kind = br.kind and m.month = br.month
