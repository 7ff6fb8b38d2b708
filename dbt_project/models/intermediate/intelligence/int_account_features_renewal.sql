-- rule: M1 renewal risk, days to renewal. Per observation (int_account_features_mrr): the account's
-- contracts in force on the observation day (stg_crm__contracts: signed and started by then, not
-- ended by then — a contract's end_date is set only when it ends, so it tells nothing earlier), each
-- renewing every term_months from its start_date; renewal_date = the first start_date + k × term
-- after the observation day (months added to the anchor), the soonest over the account's contracts.
-- NULL when no contract is in force (the account bills without one).
with contracts as (
    select
        contract_id,
        account_id,
        start_date,
        end_date,
        term_months,
        signed_at
    from {{ ref('stg_crm__contracts') }}
    where is_deleted is not true and term_months > 0 and start_date is not null
),

in_force as (
    select
        o.account_id,
        o.month,
        o.observed_at,
        c.start_date,
        c.term_months,
        cast(floor(
            cast({{ months_between('c.start_date', 'o.observed_at') }} as decimal(18, 4)) / c.term_months
        ) as {{ dbt.type_int() }}) * c.term_months as months_elapsed
    from {{ ref('int_account_features_mrr') }} as o
    inner join contracts as c
        on o.account_id = c.account_id
            and c.start_date <= o.observed_at
            and c.signed_at < cast({{ add_days(1, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
            and (c.end_date is null or c.end_date > o.observed_at)
),

renewals as (
    select
        account_id,
        month,
        observed_at,
        term_months,
        case
            when {{ add_months('months_elapsed', 'start_date') }} > observed_at
                then {{ add_months('months_elapsed', 'start_date') }}
            else {{ add_months('months_elapsed + term_months', 'start_date') }}
        end as renewal_date
    from in_force
),

soonest as (
    select
        account_id,
        month,
        min(renewal_date) as renewal_date,
        max(term_months) as term_months
    from renewals
    group by account_id, month
)

select
    o.account_id,
    o.month,
    s.renewal_date,
    cast(s.term_months as {{ dbt.type_int() }}) as term_months,
    case when s.renewal_date is not null then {{ days_between('o.observed_at', 's.renewal_date') }} end as days_to_renewal
from {{ ref('int_account_features_mrr') }} as o
left join soonest as s on o.account_id = s.account_id and o.month = s.month
