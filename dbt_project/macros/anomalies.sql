{#- A2 (docs/metrics.md): the statistics of each judged account-month's history, from `measures`
    (int_billing_measures_monthly's rows: account_id, month, measure, observed). One row per account_id,
    measure (not invoice_total), month with any history: history_months (months with a row among the
    12 before), median_value and recent_median (last 3 months) and mad_value (median absolute deviation
    from median_value), each rounded half away from zero to 4 decimals; same_month_max (the largest
    value of the same calendar month in earlier years) and first_month (of the history measure).
    Credit notes are judged against the account's invoice_total months.
    Bounded work at any scale (an unbounded self-join with a median per group ran out of memory at
    --scale 300): the portable form pairs a month only with its 12 earlier months and picks medians
    by position; DuckDB's keeps one row per month and takes its 12-month window as a list. The
    engine tests hold the two equal. -#}
{% macro billing_history_ranges(measures) -%}
    {{ adapter.dispatch('billing_history_ranges', 'subops')(measures) }}
{%- endmacro %}

{#- portable: pairs (at most 12 per month), then medians by position: the middle value (odd count) or
    the mean of the two middle values (even count), i.e. the positions p with 2p between n and n + 2 -#}
{% macro default__billing_history_ranges(measures) -%}
    with centres as (
        -- the measures judged, each against its history measure (credit notes against invoice totals)
        select
            account_id,
            measure,
            month,
            case when measure = 'credit_notes' then 'invoice_total' else measure end as history_measure
        from {{ measures }}
        where measure <> 'invoice_total'
    ),

    first_months as (
        select
            account_id,
            measure as history_measure,
            min(month) as first_month
        from {{ measures }}
        group by account_id, measure
    ),

    pairs as (
        -- each centre with its history measure's values of the 12 months before it (months without a row absent)
        select
            c.account_id,
            c.measure,
            c.month,
            h.observed as history_value,
            k.n < 3 as is_last_3
        from centres as c
        cross join {{ integers(4) }} as k
        inner join {{ measures }} as h
            on c.account_id = h.account_id
                and c.history_measure = h.measure
                and h.month = {{ add_months('-1 - k.n', 'c.month') }}
        where k.n < 12
    ),

    ranked as (
        select
            account_id,
            measure,
            month,
            history_value,
            is_last_3,
            row_number() over (partition by account_id, measure, month order by history_value) as place,
            count(*) over (partition by account_id, measure, month) as n,
            row_number() over (partition by account_id, measure, month, is_last_3 order by history_value) as place_3,
            sum(case when is_last_3 then 1 else 0 end) over (partition by account_id, measure, month) as n_3
        from pairs
    ),

    centre as (
        -- the median is the middle value (odd count) or the mean of the two middle values (even count):
        -- the positions p with 2p between n and n + 2
        select
            account_id,
            measure,
            month,
            max(n) as history_months,
            {{ div_round(
                'sum(case when 2 * place between n and n + 2 then history_value else 0 end)',
                'sum(case when 2 * place between n and n + 2 then 1 else 0 end)', 4, 18) }} as median_value,
            {{ div_round(
                'sum(case when is_last_3 and 2 * place_3 between n_3 and n_3 + 2 then history_value else 0 end)',
                'nullif(sum(case when is_last_3 and 2 * place_3 between n_3 and n_3 + 2 then 1 else 0 end), 0)', 4, 18) }}
                as recent_median
        from ranked
        group by account_id, measure, month
    ),

    deviations as (
        select
            p.account_id,
            p.measure,
            p.month,
            row_number() over (
                partition by p.account_id, p.measure, p.month order by abs(p.history_value - c.median_value)
            ) as place,
            c.history_months as n,
            abs(p.history_value - c.median_value) as deviation
        from pairs as p
        inner join centre as c
            on p.account_id = c.account_id
                and p.measure = c.measure
                and p.month = c.month
    ),

    spread as (
        select
            account_id,
            measure,
            month,
            {{ div_round(
                'sum(case when 2 * place between n and n + 2 then deviation else 0 end)',
                'sum(case when 2 * place between n and n + 2 then 1 else 0 end)', 4, 18) }} as mad_value
        from deviations
        group by account_id, measure, month
    ),

    seasonal as (
        -- the largest value of the same calendar month in earlier years (the measure's own history)
        select
            account_id,
            measure,
            month,
            max(observed) over (
                partition by account_id, measure, extract(month from month)
                order by month rows between unbounded preceding and 1 preceding
            ) as same_month_max
        from {{ measures }}
    )

    select
        c.account_id,
        c.measure,
        c.month,
        c.history_months,
        c.median_value,
        c.recent_median,
        s.mad_value,
        z.same_month_max,
        f.first_month
    from centre as c
    inner join spread as s
        on c.account_id = s.account_id
            and c.measure = s.measure
            and c.month = s.month
    inner join first_months as f
        on c.account_id = f.account_id
            and f.history_measure = case when c.measure = 'credit_notes' then 'invoice_total' else c.measure end
    left join seasonal as z
        on c.account_id = z.account_id
            and c.measure = z.measure
            and c.month = z.month
{%- endmacro %}

{#- DuckDB: each history measure's months in one window partition (credit-note months join their
    account's invoice_total series as probes that add no value), the 12 and 3 earlier months of a
    row as lists (RANGE frames over the month), medians of the lists in decimal(38, 10) (exact
    interpolation, as the percentile macro) -#}
{% macro duckdb__billing_history_ranges(measures) -%}
    with series as (
        select
            account_id,
            measure as series,
            measure,
            month,
            cast(observed as decimal(38, 10)) as observed,
            false as is_probe
        from {{ measures }}
        union all
        select
            account_id,
            'invoice_total' as series,
            measure,
            month,
            null as observed,
            true as is_probe
        from {{ measures }}
        where measure = 'credit_notes'
    ),

    windowed as (
        select
            account_id,
            series,
            measure,
            month,
            is_probe,
            list(observed) filter (where not is_probe) over (
                partition by account_id, series order by month
                range between interval 12 month preceding and interval 1 month preceding
            ) as last_12,
            list(observed) filter (where not is_probe) over (
                partition by account_id, series order by month
                range between interval 3 month preceding and interval 1 month preceding
            ) as last_3,
            max(observed) filter (where not is_probe) over (
                partition by account_id, series, extract(month from month) order by month
                rows between unbounded preceding and 1 preceding
            ) as same_month_max,
            min(month) filter (where not is_probe) over (partition by account_id, series) as first_month
        from series
    ),

    centres as (
        select
            account_id,
            measure,
            month,
            last_12,
            cast(len(last_12) as bigint) as history_months,
            cast(round(list_median(last_12), 4) as decimal(18, 4)) as median_value,
            cast(round(list_median(last_3), 4) as decimal(18, 4)) as recent_median,
            same_month_max,
            first_month
        from windowed
        where is_probe or measure not in ('invoice_total', 'credit_notes')
    )

    select
        account_id,
        measure,
        month,
        history_months,
        median_value,
        recent_median,
        cast(round(list_median(list_transform(last_12, lambda x: abs(x - median_value))), 4) as decimal(18, 4)) as mad_value,
        cast(same_month_max as decimal(18, 4)) as same_month_max,
        first_month
    from centres
    where history_months > 0
{%- endmacro %}
