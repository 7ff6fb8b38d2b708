-- rule: R2 segments. The state of each subscription after the events of each effective day,
-- events applied in (effective_date, recorded_at, event_id) order. Attributes a later event does
-- not set are carried forward from the last event that set them (running max of the setter's
-- sequence number, portable: no `ignore nulls`).
--   activate / change: plan, quantity, price (NULL price = the plan's list price)
--   renew: keeps plan, quantity and price unless it carries new ones
--   activate, resume: status active and a new billing anchor; pause: paused; cancel: cancelled
--   change (or renew) to a plan with another billing_period_months: new anchor at its date
with plans as (
    select
        plan_id,
        unit_price as list_price,
        charge_type,
        billing_period_months
    from {{ ref('stg_billing__plans') }}
),

events as (
    select
        e.*,
        p.list_price,
        row_number() over (
            partition by e.subscription_id
            order by e.effective_date, e.recorded_at, e.event_id
        ) as seq
    from {{ ref('int_subscription_events_screened') }} as e
    left join plans as p on e.plan_id = p.plan_id
),

setters as (
    select
        *,
        case
            when event_type in ('activate', 'change') or (event_type = 'renew' and plan_id is not null)
                then seq
        end as sets_plan,
        case
            when event_type in ('activate', 'change') or (event_type = 'renew' and quantity is not null)
                then seq
        end as sets_quantity,
        case
            when event_type in ('activate', 'change')
                or (event_type = 'renew' and (unit_price is not null or plan_id is not null))
                then seq
        end as sets_price,
        case when event_type in ('activate', 'pause', 'resume', 'cancel') then seq end as sets_status,
        coalesce(unit_price, list_price) as event_price
    from events
),

carried as (
    select
        subscription_id,
        seq,
        max(sets_plan) over w as plan_seq,
        max(sets_quantity) over w as quantity_seq,
        max(sets_price) over w as price_seq,
        max(sets_status) over w as status_seq
    from setters
    window w as (partition by subscription_id order by seq rows between unbounded preceding and current row)
),

states as (
    select
        e.subscription_id,
        e.account_id,
        e.contract_id,
        e.effective_date,
        e.seq,
        e.event_type,
        e.currency,
        pl.plan_id,
        q.quantity,
        pr.event_price as unit_price,
        case st.event_type
            when 'activate' then 'active'
            when 'resume' then 'active'
            when 'pause' then 'paused'
            when 'cancel' then 'cancelled'
        end as status,
        coalesce(p.billing_period_months, 0) as period_months
    from setters as e
    inner join carried as c on e.subscription_id = c.subscription_id and e.seq = c.seq
    left join setters as pl on c.subscription_id = pl.subscription_id and c.plan_seq = pl.seq
    left join setters as q on c.subscription_id = q.subscription_id and c.quantity_seq = q.seq
    left join setters as pr on c.subscription_id = pr.subscription_id and c.price_seq = pr.seq
    left join setters as st on c.subscription_id = st.subscription_id and c.status_seq = st.seq
    left join plans as p on pl.plan_id = p.plan_id
),

anchored as (
    select
        *,
        max(
            case
                when event_type in ('activate', 'resume') then seq
                when event_type in ('change', 'renew') and prev_period_months <> period_months then seq
            end
        ) over (partition by subscription_id order by seq rows between unbounded preceding and current row)
            as anchor_seq
    from (
        select
            *,
            lag(period_months) over (partition by subscription_id order by seq) as prev_period_months
        from states
    ) as s
),

last_of_day as (
    select
        a.*,
        row_number() over (
            partition by a.subscription_id, a.effective_date order by a.seq desc
        ) as rn_desc
    from anchored as a
)

select
    d.subscription_id,
    d.account_id,
    d.contract_id,
    d.effective_date,
    d.plan_id,
    d.quantity,
    d.unit_price,
    d.status,
    d.currency,
    anchor.effective_date as anchor_date
from last_of_day as d
left join anchored as anchor
    on d.subscription_id = anchor.subscription_id and d.anchor_seq = anchor.seq
where d.rn_desc = 1
