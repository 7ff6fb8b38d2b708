-- rule: R5 by plan. MRR per account, plan and month: the account's active recurring segments in
-- force on the month's snapshot day (as fct_mrr_monthly), grouped by their plan. A subscription that
-- changes plan moves its MRR to the new plan from the first month-end after the change; usage plans
-- carry no MRR and have no row; paused subscriptions have no row (0 MRR). Rows exist only for plans
-- in force, so an account-month with 0 MRR has none.
-- Reporting currency at the month's rate, like fct_mrr_monthly. Each row is converted on its own,
-- and the rounding residual of the 10th decimal (at most half a unit per row) is carried by the
-- account-month's largest row, so the rows of an account-month sum to fct_mrr_monthly.mrr_usd exactly.
with accounts as (
    select
        account_id,
        month,
        mrr_usd,
        units_per_usd,
        reporting_units_per_usd
    from {{ ref('int_mrr_account_monthly') }}
),

by_plan as (
    select
        account_id,
        month,
        plan_id,
        max(product_family) as product_family,
        max(billing_period_months) as billing_period_months,
        max(currency) as currency,
        count(*) as subscriptions,
        sum(quantity) as quantity,
        sum(mrr) as mrr
    from {{ ref('int_mrr_subscription_monthly') }}
    where charge_type = 'recurring' and status = 'active'
    group by account_id, month, plan_id
),

converted as (
    select
        p.*,
        a.mrr_usd as account_mrr_usd,
        {{ convert_at('p.mrr', 'a.units_per_usd', 'a.reporting_units_per_usd') }} as row_mrr_usd,
        row_number() over (
            partition by p.account_id, p.month order by p.mrr desc, p.plan_id asc
        ) as size_rank
    from by_plan as p
    inner join accounts as a on p.account_id = a.account_id and p.month = a.month
),

with_others as (
    select
        *,
        sum(case when size_rank > 1 then row_mrr_usd else 0 end) over (
            partition by account_id, month
        ) as other_rows_usd
    from converted
),

balanced as (
    select
        *,
        case when size_rank = 1 then account_mrr_usd - other_rows_usd else row_mrr_usd end as mrr_usd
    from with_others
)

select
    cast(b.account_id as {{ dbt.type_string() }}) as account_id,
    cast(b.plan_id as {{ dbt.type_string() }}) as plan_id,
    cast(b.month as date) as month,
    cast(pl.product_name as {{ dbt.type_string() }}) as product_name,
    cast(b.product_family as {{ dbt.type_string() }}) as product_family,
    cast(b.billing_period_months as {{ dbt.type_int() }}) as billing_period_months,
    cast(acc.segment as {{ dbt.type_string() }}) as segment,
    cast(acc.region as {{ dbt.type_string() }}) as region,
    cast(b.currency as {{ dbt.type_string() }}) as currency,
    cast(b.subscriptions as {{ dbt.type_bigint() }}) as subscriptions,
    cast(b.quantity as decimal(18, 4)) as quantity,
    cast(b.mrr as {{ type_mrr() }}) as mrr,
    cast(b.mrr_usd as {{ type_mrr() }}) as mrr_usd,
    cast(12 * b.mrr_usd as {{ type_mrr() }}) as arr_usd,
    cast(b.mrr_usd is null as boolean) as is_missing_fx_rate
from balanced as b
left join {{ ref('stg_billing__plans') }} as pl on b.plan_id = pl.plan_id
left join {{ ref('stg_crm__accounts') }} as acc on b.account_id = acc.account_id
