-- rule: R10 quote-to-cash. One row per closed_won opportunity (close_date on or before the as-of
-- date) with the contract that carries its opportunity_id: the earliest signed one when several
-- (signed on or before the as-of time; ties and unsigned ones by contract_id), or the first unsigned one by
-- contract_id when none is signed yet (contract_id set, signed_at NULL).
with contracts as (
    select
        contract_id,
        opportunity_id,
        case when signed_at < {{ as_of_end_ts() }} then signed_at end as signed_at
    from {{ ref('stg_crm__contracts') }}
    where opportunity_id is not null
),

ranked as (
    select
        contract_id,
        opportunity_id,
        signed_at,
        row_number() over (
            partition by opportunity_id
            order by case when signed_at is null then 1 else 0 end, signed_at, contract_id
        ) as rn
    from contracts
)

select
    b.opportunity_id,
    b.account_id,
    b.opportunity_type,
    b.close_date,
    b.amount,
    b.currency,
    c.contract_id,
    c.signed_at
from {{ ref('int_bookings_converted') }} as b
left join ranked as c on b.opportunity_id = c.opportunity_id and c.rn = 1
