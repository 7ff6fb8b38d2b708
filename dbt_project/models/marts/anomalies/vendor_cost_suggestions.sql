-- rule: A6 vendor cost matching (docs/metrics.md). COGS vendor bills (latest version, not deleted, dated on
-- or before the as-of date) with neither account nor product family get a suggested family from the
-- vendor's other bills that carry one: the family of most of them (ties: alphabetical), confidence =
-- that family's share of the vendor's assigned bills, × 0.7 when the bill's amount is outside
-- [0.5, 2] × the family's median bill of the vendor. No assigned history → no suggestion, confidence 0.
-- The source contract has no description column, so descriptions do not vote. A suggestion changes
-- nothing until its family is accepted in seeds/accepted_vendor_families.csv (read by R7 COGS).
with bills as (
    select
        b.bill_id,
        b.vendor_id,
        b.bill_date,
        b.currency,
        {{ round_money('b.amount') }} as amount,
        b.product_family,
        b.account_id
    from {{ ref('int_vendor_bills_screened') }} as b
    where
        b.cost_type = 'cogs' and not b.is_deleted and b.bill_date <= {{ as_of_date() }}
),

unassigned as (
    select * from bills
    where account_id is null and product_family is null
),

history as (
    select
        vendor_id,
        product_family,
        count(*) as bills,
        {{ median('amount', 2) }} as median_amount
    from bills
    where product_family is not null
    group by vendor_id, product_family
),

vendor_total as (
    select
        vendor_id,
        sum(bills) as bills
    from history
    group by vendor_id
),

ranked as (
    select
        h.vendor_id,
        h.product_family,
        h.bills,
        h.median_amount,
        t.bills as vendor_bills,
        row_number() over (partition by h.vendor_id order by h.bills desc, h.product_family asc) as rank_in_vendor
    from history as h
    inner join vendor_total as t on h.vendor_id = t.vendor_id
),

best as (
    select * from ranked
    where rank_in_vendor = 1
),

accepted as (
    select
        bill_id,
        max(product_family) as product_family
    from {{ ref('accepted_vendor_families') }}
    group by bill_id
)

select
    cast(u.bill_id as {{ dbt.type_string() }}) as bill_id,
    cast(u.vendor_id as {{ dbt.type_string() }}) as vendor_id,
    cast(v.vendor_name as {{ dbt.type_string() }}) as vendor_name,
    cast(u.bill_date as date) as bill_date,
    cast(u.amount as decimal(18, 2)) as amount,
    cast(u.currency as {{ dbt.type_string() }}) as currency,
    cast(b.product_family as {{ dbt.type_string() }}) as suggested_family,
    cast(
        case
            when b.product_family is null then 0
            when u.amount between b.median_amount * 0.5 and b.median_amount * 2
                then round(cast(b.bills as decimal(18, 4)) / cast(b.vendor_bills as decimal(18, 4)), 2)
            else round(cast(b.bills as decimal(18, 4)) * 0.7 / cast(b.vendor_bills as decimal(18, 4)), 2)
        end as decimal(5, 2)
    ) as confidence,
    cast(coalesce(b.vendor_bills, 0) as {{ dbt.type_int() }}) as vendor_assigned_bills,
    cast(
        case
            when b.product_family is null then 'the vendor has no bill with a product family'
            else {{ dbt.concat([
                'cast(b.bills as ' ~ dbt.type_string() ~ ')', "' of '", 'cast(b.vendor_bills as ' ~ dbt.type_string() ~ ')',
                "' assigned bills of the vendor are '", 'b.product_family', "'; amount '",
                'cast(u.amount as ' ~ dbt.type_string() ~ ')', "' vs their median '", 'cast(b.median_amount as ' ~ dbt.type_string() ~ ')'
            ]) }}
        end as {{ dbt.type_string() }}
    ) as evidence,
    cast(a.product_family as {{ dbt.type_string() }}) as accepted_family
from unassigned as u
left join best as b on u.vendor_id = b.vendor_id
left join {{ ref('stg_procurement__vendors') }} as v on u.vendor_id = v.vendor_id
left join accepted as a on u.bill_id = a.bill_id
