-- Incremental facts (dbt_project/README.md): what the incremental facts read, fingerprinted, next to
-- the same fingerprints as the previous build saw them (this table's previous version, which the
-- build file inherits from the published warehouse). A key whose fingerprint differs changed.
--   segments      per account: its subscription segments (events, screening, plans as applied)
--   one_time      per account: its one-time charges that count
--   credit_notes  per account: its credit notes that count, with the product family of their invoice
--   usage         per subscription and month of use (since = the month): rows, the latest load time
--                 and sums of the usage that counts (a new or re-delivered row is loaded later than
--                 every row before it)
--   fx            per currency and range start: the rate in force (since = the range start)
--   plans, code   the price book; the project's code (another version rebuilds every fact)
--   as_of         the as-of date (since = the date)
-- No previous version (first build, full refresh): every key is new, so everything is rebuilt.
{%- set previous = none -%}
{%- if execute -%}
    {%- if not flags.FULL_REFRESH and reads_previous_state() -%}
        {%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- endif -%}
{%- endif %}

with credit_note_families as (
    select
        il.invoice_id,
        max(p.product_family) as product_family,
        count(distinct p.product_family) as n_families
    from {{ ref('int_invoice_lines_screened') }} as il
    inner join {{ ref('stg_billing__plans') }} as p on il.plan_id = p.plan_id
    where il.invoice_id in (select cn.invoice_id from {{ ref('int_credit_notes_screened') }} as cn)
    group by il.invoice_id
),

rows_hashed as (
    select
        'segments' as kind,
        account_id as state_key,
        {{ row_fingerprint(['subscription_id', 'contract_id', 'valid_from', 'valid_to', 'plan_id',
            'charge_type', 'product_family', 'billing_period_months', 'quantity', 'unit_price',
            'status', 'currency', 'anchor_date', 'mrr']) }} as row_hash
    from {{ ref('int_subscription_segments_merged') }}

    union all

    select
        'one_time' as kind,
        account_id as state_key,
        {{ row_fingerprint(['charge_id', 'contract_id', 'plan_id', 'amount', 'currency',
            'milestone_date']) }} as row_hash
    from {{ ref('int_one_time_charges_screened') }}

    union all

    select
        'credit_notes' as kind,
        cn.account_id as state_key,
        {{ row_fingerprint(['cn.credit_note_id', 'cn.invoice_id', 'cn.amount', 'cn.currency',
            'cn.issued_date', 'f.product_family', 'f.n_families']) }} as row_hash
    from {{ ref('int_credit_notes_screened') }} as cn
    left join credit_note_families as f on cn.invoice_id = f.invoice_id

    union all

    select
        'plans' as kind,
        '*' as state_key,
        {{ row_fingerprint(['plan_id', 'product_id', 'product_family', 'charge_type',
            'billing_period_months', 'unit_price', 'included_units', 'usage_metric', 'currency',
            'active', 'is_deleted']) }} as row_hash
    from {{ ref('stg_billing__plans') }}
),

current_state as (
    select
        kind,
        state_key,
        {{ set_fingerprint('row_hash') }} as fingerprint,
        cast(null as date) as since
    from rows_hashed
    group by kind, state_key

    union all

    select
        'usage' as kind,
        {{ dbt.concat(['subscription_id', "'|'", date_key(month_start('cast(occurred_at as date)'))]) }}
            as state_key,
        {{ dbt.concat([
            "cast(count(*) as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(max(loaded_at) as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(sum(quantity) as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(min(occurred_at) as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(max(occurred_at) as " ~ dbt.type_string() ~ ")"]) }} as fingerprint,
        {{ month_start('cast(occurred_at as date)') }} as since
    from {{ ref('int_usage_screened') }}
    group by subscription_id, {{ month_start('cast(occurred_at as date)') }}

    union all

    select
        'fx' as kind,
        {{ dbt.concat(['currency', "'|'", date_key('valid_from')]) }} as state_key,
        {{ dbt.concat([
            "cast(units_per_usd as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(reporting_units_per_usd as " ~ dbt.type_string() ~ ")"]) }} as fingerprint,
        valid_from as since
    from {{ ref('int_fx_rates_ranged') }}

    union all

    select
        'as_of' as kind,
        '*' as state_key,
        '{{ var("as_of_date") }}' as fingerprint,
        {{ as_of_date() }} as since

    union all

    select
        'code' as kind,
        '*' as state_key,
        '{{ code_fingerprint() }}' as fingerprint,
        cast(null as date) as since
),

previous_state as (
    select
        kind,
        state_key,
        fingerprint,
        since
    from {{ previous if previous is not none else 'current_state' }}
    where fingerprint is not null{% if previous is none %} and 1 = 0{% endif %}
)

select
    coalesce(c.kind, p.kind) as kind,
    coalesce(c.state_key, p.state_key) as state_key,
    c.fingerprint,
    c.since,
    p.fingerprint as previous_fingerprint,
    p.since as previous_since,
    coalesce(c.fingerprint, '') <> coalesce(p.fingerprint, '') as is_changed
from current_state as c
full outer join previous_state as p
    on c.kind = p.kind and c.state_key = p.state_key
