-- rule: M1 renewal risk, onboarding delay. Per observation (int_account_features_mrr): the most
-- days any of the account's onboarding projects known by the observation day
-- (int_implementations_measured) went past its target go-live: go-live − target when it went live by
-- then, observation day − target when still not live (stalled or late), 0 when on time, not due yet,
-- or without a project.
with delays as (
    select
        o.account_id,
        o.month,
        case
            when i.implementation_id is null or i.target_go_live_date is null then 0
            when i.live_from is not null and i.live_from <= o.observed_at
                then {{ days_between('i.target_go_live_date', 'i.live_from') }}
            when i.cancelled_on is not null and i.cancelled_on <= o.observed_at
                then {{ days_between('i.target_go_live_date', 'i.cancelled_on') }}
            else {{ days_between('i.target_go_live_date', 'o.observed_at') }}
        end as delay_days
    from {{ ref('int_account_features_mrr') }} as o
    left join {{ ref('int_implementations_measured') }} as i
        on o.account_id = i.account_id and i.first_known_date <= o.observed_at
)

select
    account_id,
    month,
    cast(max(case when delay_days > 0 then delay_days else 0 end) as {{ dbt.type_int() }}) as onboarding_delay_days
from delays
group by account_id, month
