-- rule: R10 support-to-renewal. Unit of observation: the account-month (account, M) of an account
-- with MRR > 0 at the end of M−1 (fct_mrr_monthly), M up to the as-of month. It is bucketed by the
-- tickets it created in the 90 days before M's first day ([M − 90 days, M)) and their CSAT; outcomes
-- are churn and contraction in M (fct_mrr_movements). Rates = outcomes / account-months, fractions.
-- Ticket volume scales with account size (enterprise files several times more tickets than smb yet
-- churns less), so the buckets measure support EXPERIENCE, not volume: the CSAT average of the rated
-- tickets of the window (poor < 3, fair 3 to < 4, good ≥ 4), unrated when none was rated, and no
-- tickets at all. Ranks are fixed a priori (1 = best … 5 = worst), not fitted to the outcome:
-- no_tickets (no friction), good_csat, unrated, fair_csat, poor_csat. CSAT is taken as known at the
-- build (the raw table keeps only a ticket's latest version, so when a rating arrived is not known).
with buckets as (
    select
        'no_tickets' as bucket,
        1 as bucket_rank,
        'none' as ticket_band,
        'none' as csat_band
    union all
    select
        'good_csat' as bucket,
        2 as bucket_rank,
        'some' as ticket_band,
        'good' as csat_band
    union all
    select
        'unrated' as bucket,
        3 as bucket_rank,
        'some' as ticket_band,
        'unrated' as csat_band
    union all
    select
        'fair_csat' as bucket,
        4 as bucket_rank,
        'some' as ticket_band,
        'fair' as csat_band
    union all
    select
        'poor_csat' as bucket,
        5 as bucket_rank,
        'some' as ticket_band,
        'poor' as csat_band
),

account_months as (
    select
        p.account_id,
        {{ add_months(1, 'p.month') }} as month
    from {{ ref('fct_mrr_monthly') }} as p
    where p.mrr > 0
        and {{ add_months(1, 'p.month') }} <= {{ month_start(as_of_date()) }}
),

support as (
    select
        am.account_id,
        am.month,
        count(t.ticket_id) as tickets,
        count(t.csat_score) as rated_tickets,
        sum(t.csat_score) as csat_sum
    from account_months as am
    left join {{ ref('int_tickets_sla_measured') }} as t
        on am.account_id = t.account_id
            and t.created_at >= cast({{ add_days(-90, 'am.month') }} as {{ dbt.type_timestamp() }})
            and t.created_at < cast(am.month as {{ dbt.type_timestamp() }})
    group by am.account_id, am.month
),

outcomes as (
    select
        account_id,
        month,
        max(case when movement_type = 'churn' then 1 else 0 end) as churned,
        max(case when movement_type = 'contraction' then 1 else 0 end) as contracted
    from {{ ref('fct_mrr_movements') }}
    where movement_type in ('churn', 'contraction')
    group by account_id, month
),

observed as (
    select
        s.account_id,
        case
            when s.tickets = 0 then 'no_tickets'
            when s.rated_tickets = 0 then 'unrated'
            when s.csat_sum < 3 * s.rated_tickets then 'poor_csat'
            when s.csat_sum < 4 * s.rated_tickets then 'fair_csat'
            else 'good_csat'
        end as bucket,
        coalesce(o.churned, 0) as churned,
        coalesce(o.contracted, 0) as contracted
    from support as s
    left join outcomes as o on s.account_id = o.account_id and s.month = o.month
),

summarized as (
    select
        bucket,
        count(*) as account_months,
        count(distinct account_id) as accounts,
        sum(churned) as churned,
        sum(contracted) as contracted
    from observed
    group by bucket
)

select
    cast(b.bucket as {{ dbt.type_string() }}) as bucket,
    cast(b.bucket_rank as {{ dbt.type_int() }}) as bucket_rank,
    cast(b.ticket_band as {{ dbt.type_string() }}) as ticket_band,
    cast(b.csat_band as {{ dbt.type_string() }}) as csat_band,
    cast(coalesce(s.account_months, 0) as {{ dbt.type_bigint() }}) as account_months,
    cast(coalesce(s.accounts, 0) as {{ dbt.type_bigint() }}) as accounts,
    cast(coalesce(s.churned, 0) as {{ dbt.type_bigint() }}) as churned,
    cast(coalesce(s.contracted, 0) as {{ dbt.type_bigint() }}) as contracted,
    cast(case when s.account_months > 0 then {{ div_round('s.churned', 's.account_months', 6) }} end as decimal(18, 6)) as churn_rate,
    cast(case when s.account_months > 0 then {{ div_round('s.contracted', 's.account_months', 6) }} end as decimal(18, 6)) as contraction_rate
from buckets as b
left join summarized as s on b.bucket = s.bucket
