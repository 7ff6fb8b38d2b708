-- rule: R7 vendor spend (conversion: R1 billings at their own date). One row per vendor bill (latest
-- version, not deleted, bill_date on or before the as-of date), cogs and opex alike, with its vendor,
-- its amount rounded to cents, converted to the reporting currency at bill_date (no rate → NULL and
-- is_missing_fx_rate, never zero), and whether it is covered by an approved purchase order: its po_id
-- names a PO (latest version, not deleted) whose status is approved, received or closed. A NULL po_id,
-- an unknown or deleted PO, or a PO requested or rejected → has_approved_po false.
with pos as (
    select
        po_id,
        status
    from {{ ref('stg_procurement__purchase_orders') }}
    where not is_deleted
)

select
    b.bill_id,
    b.vendor_id,
    v.vendor_name,
    v.category,
    b.bill_date,
    {{ month_start('b.bill_date') }} as month,
    b.cost_type,
    b.status,
    b.po_id,
    p.status as po_status,
    b.currency,
    {{ round_money('b.amount') }} as amount,
    {{ to_reporting(round_money('b.amount'), 'fx') }} as amount_usd,
    fx.units_per_usd is null as is_missing_fx_rate,
    coalesce(p.status in ('approved', 'received', 'closed'), false) as has_approved_po
from {{ ref('int_vendor_bills_screened') }} as b
left join {{ ref('stg_procurement__vendors') }} as v on b.vendor_id = v.vendor_id
left join pos as p on b.po_id = p.po_id
{{ fx_join('fx', 'b.currency', 'b.bill_date') }}
where not b.is_deleted and b.bill_date <= {{ as_of_date() }}
