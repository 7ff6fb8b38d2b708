-- rule: R7 revenue (R4). Revenue(account, M) = recognized revenue of R4, credits included, in the
-- reporting currency at the month's rate, per account × month × product_family (NULL family: credit
-- notes whose invoice has no single family). Read from the revenue schedule split with exactly the
-- filter and column of fct_revenue_schedule (recognized_usd_to_date, months up to the as-of month), so
-- the intermediate layer reads only intermediate models. Rows with a missing FX rate are excluded from
-- revenue_usd and counted in missing_fx_rows.
select
    account_id,
    month,
    product_family,
    cast(coalesce(sum(recognized_usd_to_date), 0) as decimal(18, 2)) as revenue_usd,
    cast(sum(case when recognized_usd_to_date is null then 1 else 0 end) as {{ dbt.type_bigint() }})
        as missing_fx_rows
from {{ ref('int_revenue_schedule_split') }}
where month <= {{ month_start(as_of_date()) }}
group by account_id, month, product_family
