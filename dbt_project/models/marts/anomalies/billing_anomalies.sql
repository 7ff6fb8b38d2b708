-- rule: A4 billing anomalies (docs/metrics.md decisions A1–A4): the measures above their expected range
-- (int_billing_measures_ranged: invoice_total_spike, usage_spike, credit_note_spike) and the rule-based
-- findings (int_billing_rule_anomalies_listed). Severity of a range anomaly by observed ÷ expected_high:
-- ≥ 3 high, ≥ 1.5 medium, else low; rules: duplicate_line and usage_after_cancellation high,
-- price_above_list medium. anomaly_key = kind|account|month|first row id.
with ranged as (
    select
        account_id,
        month,
        case measure
            when 'invoice_amount' then 'invoice_total_spike'
            when 'usage_quantity' then 'usage_spike'
            else 'credit_note_spike'
        end as kind,
        measure,
        observed,
        expected_low,
        expected_high,
        case
            when observed >= 3 * expected_high then 'high'
            when observed >= 1.5 * expected_high then 'medium'
            else 'low'
        end as severity,
        history_months,
        row_ids,
        {{ dbt.concat([
            'measure', "' '", 'cast(cast(observed as decimal(18, 2)) as ' ~ dbt.type_string() ~ ')',
            "' above its expected range '", 'cast(expected_low as ' ~ dbt.type_string() ~ ')', "'–'",
            'cast(expected_high as ' ~ dbt.type_string() ~ ')', "' (median '",
            'cast(cast(median_value as decimal(18, 2)) as ' ~ dbt.type_string() ~ ')', "' over '",
            'cast(history_months as ' ~ dbt.type_string() ~ ')', "' earlier months)'"
        ]) }} as evidence
    from {{ ref('int_billing_measures_ranged') }}
    where observed > expected_high and not is_explained
),

rules as (
    select
        account_id,
        month,
        kind,
        case kind when 'duplicate_line' then 'invoice_lines' when 'price_above_list' then 'unit_price' else 'usage_quantity' end as measure,
        observed,
        expected_low,
        expected_high,
        case kind when 'price_above_list' then 'medium' else 'high' end as severity,
        cast(null as {{ dbt.type_int() }}) as history_months,
        row_ids,
        evidence
    from {{ ref('int_billing_rule_anomalies_listed') }}
),

found as (
    select * from ranged
    union all
    select * from rules
)

select
    cast({{ dbt.concat(['f.kind', "'|'", 'f.account_id', "'|'", date_key('f.month'), "'|'", dbt.split_part('f.row_ids', "','", 1)]) }} as {{ dbt.type_string() }}) as anomaly_key,
    cast(f.account_id as {{ dbt.type_string() }}) as account_id,
    cast(a.account_name as {{ dbt.type_string() }}) as account_name,
    cast(f.month as date) as month,
    cast(f.kind as {{ dbt.type_string() }}) as kind,
    cast(f.measure as {{ dbt.type_string() }}) as measure,
    cast(f.observed as decimal(18, 2)) as observed,
    cast(f.expected_low as decimal(18, 2)) as expected_low,
    cast(f.expected_high as decimal(18, 2)) as expected_high,
    cast(f.severity as {{ dbt.type_string() }}) as severity,
    cast(f.history_months as {{ dbt.type_int() }}) as history_months,
    cast(f.row_ids as {{ dbt.type_string() }}) as row_ids,
    cast(f.evidence as {{ dbt.type_string() }}) as evidence
from found as f
left join {{ ref('dim_accounts') }} as a on f.account_id = a.account_id
