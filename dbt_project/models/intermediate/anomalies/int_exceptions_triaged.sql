-- rule: A5 exception triage (docs/metrics.md). Every billing exception (billing_exceptions) and every row
-- or file the loader quarantined or reported gets a probable_cause and the evidence that decided it.
-- Billing exceptions, first rule that holds:
--   duplicate_line       unexpected_in_billing (a line nothing computed), or amount_mismatch with more
--                        issued than computed lines and issued = 2 × expected;
--   backdated_amendment  an event of the subscription effective on the period start was recorded later;
--   missing_usage / missing_charge / skipped_billing_run
--                        missing_in_billing of a usage line / a one-time charge / a recurring line;
--   proration_error / usage_rating_error / price_override
--                        amount_mismatch of a proration / usage / other line.
-- Loader rows and files: by reason code (bad_type → export_format, bad_enum → unmapped_code, bad_currency,
-- bad_country, out_of_range → manual_entry, missing_required → incomplete_record, negative_amount →
-- sign_convention, duplicate_key → duplicate_export, unknown_reference → orphan_reference, no_fx_rate →
-- missing_reference_data, missing_column → schema_change, unreadable_file and record faults →
-- damaged_file, landing refusals → landing_misuse), evidence the loader's own reason text.
with exceptions as (
    select * from {{ ref('billing_exceptions') }}
),

computed as (
    select
        coalesce(subscription_id, charge_id) as ref,
        service_start,
        max(case when line_type = 'proration' then 1 else 0 end) as has_proration,
        max(case when line_type = 'usage' then 1 else 0 end) as has_usage,
        max(case when line_type = 'one_time' then 1 else 0 end) as has_one_time
    from {{ ref('int_invoice_lines_unioned') }}
    group by coalesce(subscription_id, charge_id), service_start
),

late_events as (
    select
        subscription_id,
        effective_date,
        min(event_id) as event_id,
        max(cast(recorded_at as date)) as recorded_date
    from {{ ref('int_subscription_events_screened') }}
    where cast(recorded_at as date) > effective_date
    group by subscription_id, effective_date
),

billing as (
    select
        e.exception_key,
        e.month,
        e.account_id,
        e.exception_type,
        case
            when e.exception_type = 'unexpected_in_billing' then 'duplicate_line'
            when e.exception_type = 'amount_mismatch' and e.issued_lines > e.expected_lines
                and abs(e.issued_amount - 2 * e.expected_amount) <= 0.01 then 'duplicate_line'
            when l.event_id is not null then 'backdated_amendment'
            when e.exception_type = 'missing_in_billing' and c.has_usage = 1 then 'missing_usage'
            when e.exception_type = 'missing_in_billing' and c.has_one_time = 1 then 'missing_charge'
            when e.exception_type = 'missing_in_billing' then 'skipped_billing_run'
            when c.has_proration = 1 then 'proration_error'
            when c.has_usage = 1 then 'usage_rating_error'
            else 'price_override'
        end as probable_cause,
        case
            when e.exception_type = 'unexpected_in_billing' then {{ dbt.concat(["'issued '", 'cast(e.issued_amount as ' ~ dbt.type_string() ~ ')', "' on '", "coalesce(e.issued_invoice_ids, '')", "' where no line was computed'"]) }}
            when e.exception_type = 'amount_mismatch' and e.issued_lines > e.expected_lines
                and abs(e.issued_amount - 2 * e.expected_amount) <= 0.01
                then {{ dbt.concat(["'issued '", 'cast(e.issued_amount as ' ~ dbt.type_string() ~ ')', "' = 2 × expected '", 'cast(e.expected_amount as ' ~ dbt.type_string() ~ ')', "' in '", 'cast(e.issued_lines as ' ~ dbt.type_string() ~ ')', "' lines'"]) }}
            when l.event_id is not null then {{ dbt.concat(['l.event_id', "' effective '", 'cast(e.period_start as ' ~ dbt.type_string() ~ ')', "' recorded '", 'cast(l.recorded_date as ' ~ dbt.type_string() ~ ')', "'; expected '", 'cast(e.expected_amount as ' ~ dbt.type_string() ~ ')', "', issued '", 'cast(e.issued_amount as ' ~ dbt.type_string() ~ ')']) }}
            else {{ dbt.concat(['e.exception_type', "' of a '", "case when c.has_usage = 1 then 'usage' when c.has_one_time = 1 then 'one-time' when c.has_proration = 1 then 'proration' else 'recurring' end", "' line: expected '", 'cast(e.expected_amount as ' ~ dbt.type_string() ~ ')', "', issued '", 'cast(e.issued_amount as ' ~ dbt.type_string() ~ ')']) }}
        end as evidence,
        e.exception_key as row_ref
    from exceptions as e
    left join computed as c
        on coalesce(e.subscription_id, e.charge_id) = c.ref
            and e.period_start = c.service_start
    left join late_events as l
        on e.subscription_id = l.subscription_id
            and e.period_start = l.effective_date
),

loader_seen as (
    select
        source, {{ adapter.quote('table') }} as table_name, file, row_number, {{ adapter.quote('column') }} as column_name,
        reason_code, reason, cast(quarantined_at as date) as seen_date
    from {{ source('quarantine', 'rows') }}
    union all
    select
        source, {{ adapter.quote('table') }} as table_name, file, cast(null as {{ dbt.type_bigint() }}) as row_number,
        cast(null as {{ dbt.type_string() }}) as column_name, reason_code, reason, cast(quarantined_at as date) as seen_date
    from {{ source('quarantine', 'files') }}
    union all
    select
        source, {{ adapter.quote('table') }} as table_name, file, row_number, {{ adapter.quote('column') }} as column_name,
        reason_code, reason, cast(checked_at as date) as seen_date
    from {{ source('audit', 'reference_breaches') }}
),

loader as (
    -- one row per fault, however many runs reported it (the first day it was seen)
    select
        source,
        table_name,
        file,
        row_number,
        column_name,
        reason_code,
        max(reason) as reason,
        min(seen_date) as seen_date
    from loader_seen
    group by source, table_name, file, row_number, column_name, reason_code
),

quarantine as (
    select
        {{ dbt.concat(["coalesce(source, '')", "'/'", "coalesce(table_name, '')", "'|'", "coalesce(file, '')", "'|'", "coalesce(cast(row_number as " ~ dbt.type_string() ~ "), '')", "'|'", "coalesce(column_name, '')", "'|'", "coalesce(reason_code, '')"]) }} as exception_key,
        cast({{ month_start('seen_date') }} as date) as month,
        cast(null as {{ dbt.type_string() }}) as account_id,
        reason_code as exception_type,
        case reason_code
            when 'bad_type' then 'export_format'
            when 'bad_enum' then 'unmapped_code'
            when 'bad_currency' then 'manual_entry'
            when 'bad_country' then 'manual_entry'
            when 'out_of_range' then 'manual_entry'
            when 'missing_required' then 'incomplete_record'
            when 'negative_amount' then 'sign_convention'
            when 'duplicate_key' then 'duplicate_export'
            when 'unknown_reference' then 'orphan_reference'
            when 'no_fx_rate' then 'missing_reference_data'
            when 'stale_fx_rate' then 'missing_reference_data'
            when 'missing_column' then 'schema_change'
            when 'extra_column' then 'schema_change'
            when 'unreadable_file' then 'damaged_file'
            when 'malformed_record' then 'damaged_file'
            when 'truncated_record' then 'damaged_file'
            when 'misplaced_file' then 'landing_misuse'
            when 'bad_extract_id' then 'landing_misuse'
            when 'future_extract' then 'landing_misuse'
            when 'duplicate_extract' then 'landing_misuse'
            when 'outside_landing' then 'landing_misuse'
            else 'unknown'
        end as probable_cause,
        {{ dbt.concat(['reason_code', "': '", "coalesce(reason, '')"]) }} as evidence,
        {{ dbt.concat(["coalesce(file, '')", "'#'", "coalesce(cast(row_number as " ~ dbt.type_string() ~ "), '')"]) }} as row_ref
    from loader
)

select
    'billing' as queue,
    b.*
from billing as b
union all
select
    'loader' as queue,
    q.*
from quarantine as q
