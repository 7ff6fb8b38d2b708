-- rule: R1 conversion. One row per currency and validity range [valid_from, valid_to): the latest
-- rate_date <= day is in force on day. USD is 1 (needs no row). Ranges are intersected with the
-- reporting currency's ranges so a non-USD reporting currency converts exactly as well.
with rates as (
    select
        currency,
        rate_date as valid_from,
        units_per_usd
    from {{ ref('stg_reference__fx_rates') }}
    where currency <> 'USD' and rate_date <= {{ as_of_date() }}
    union all
    select
        'USD' as currency,
        cast('1900-01-01' as date) as valid_from,
        cast(1 as decimal(18, 4)) as units_per_usd
),

ranged as (
    select
        currency,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by currency order by valid_from),
            cast('9999-12-31' as date)
        ) as valid_to,
        units_per_usd
    from rates
),

reporting as (
    select
        valid_from,
        valid_to,
        units_per_usd
    from ranged
    where currency = '{{ var("reporting_currency") }}'
)

select
    r.currency,
    case when r.valid_from > p.valid_from then r.valid_from else p.valid_from end as valid_from,
    case when r.valid_to < p.valid_to then r.valid_to else p.valid_to end as valid_to,
    r.units_per_usd,
    p.units_per_usd as reporting_units_per_usd
from ranged as r
inner join reporting as p
    on r.valid_from < p.valid_to and p.valid_from < r.valid_to
