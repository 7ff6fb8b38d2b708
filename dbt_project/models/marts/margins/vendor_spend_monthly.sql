-- rule: R7 vendor spend. Vendor bills (cogs and opex; opex never enters COGS) per vendor, month of
-- bill_date, cost type and currency: count, amount in the bill's currency, amount in the reporting
-- currency with each bill converted at its bill_date (R1 billings at their own date; bills without a
-- rate are left out of amount_usd and counted in missing_fx_bills), and the bills not covered by an
-- approved purchase order (po_id NULL, unknown or deleted PO, or PO status not approved / received /
-- closed).
select
    cast(vendor_id as {{ dbt.type_string() }}) as vendor_id,
    cast(month as date) as month,
    cast(cost_type as {{ dbt.type_string() }}) as cost_type,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(max(vendor_name) as {{ dbt.type_string() }}) as vendor_name,
    cast(max(category) as {{ dbt.type_string() }}) as category,
    cast(count(*) as {{ dbt.type_bigint() }}) as bills,
    cast(sum(amount) as decimal(18, 2)) as amount,
    cast(coalesce(sum(amount_usd), 0) as decimal(18, 2)) as amount_usd,
    cast(sum(case when is_missing_fx_rate then 1 else 0 end) as {{ dbt.type_bigint() }}) as missing_fx_bills,
    cast(sum(case when has_approved_po then 0 else 1 end) as {{ dbt.type_bigint() }}) as bills_without_approved_po,
    cast(coalesce(sum(case when not has_approved_po then amount_usd end), 0) as decimal(18, 2))
        as amount_without_approved_po_usd
from {{ ref('int_vendor_bills_converted') }}
group by vendor_id, month, cost_type, currency
