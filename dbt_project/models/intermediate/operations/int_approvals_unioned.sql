-- rule: R10 approval cycle. One row per approval request: contracts that were submitted
-- (submitted_at set; drafts never submitted are not approval requests) and purchase orders, with
-- submitted_at (contract submitted_at / PO requested_at) on or before the as-of date. An approved_at
-- after the as-of time is not known yet (still pending).
-- status: contracts approved when approved_at is set, else pending. POs rejected when their status is
-- rejected (even with approved_at set: the latest status wins), else approved when approved_at is set
-- or the PO is past approval (approved, received, closed), else pending.
-- cycle_hours = submitted_at → approved_at (seconds / 3600, decimal(18,2)) for approved requests only.
-- sod_breach: approved_by equals created_by / requested_by, read literally whatever the status.
-- decided_at: approved_at, or for a rejected PO without approved_at its last update (when it left the
-- pending backlog; the raw table keeps only the latest version).
with requests as (
    select
        'contract' as kind,
        contract_id as record_id,
        account_id,
        cast(null as {{ dbt.type_string() }}) as vendor_id,
        created_by,
        approved_by,
        submitted_at,
        case when approved_at < {{ as_of_end_ts() }} then approved_at end as approved_at,
        case when approved_at < {{ as_of_end_ts() }} then 'approved' else 'pending' end as status,
        cast(null as {{ dbt.type_timestamp() }}) as rejected_at,
        total_contract_value as amount,
        currency
    from {{ ref('stg_crm__contracts') }}
    where submitted_at is not null and submitted_at < {{ as_of_end_ts() }}

    union all

    select
        'purchase_order' as kind,
        po_id as record_id,
        account_id,
        vendor_id,
        requested_by as created_by,
        approved_by,
        requested_at as submitted_at,
        case when approved_at < {{ as_of_end_ts() }} then approved_at end as approved_at,
        case
            when status = 'rejected' then 'rejected'
            when approved_at < {{ as_of_end_ts() }} then 'approved'
            when approved_at is null and status in ('approved', 'received', 'closed') then 'approved'
            else 'pending'
        end as status,
        case when status = 'rejected' then coalesce(approved_at, updated_at) end as rejected_at,
        amount,
        currency
    from {{ ref('stg_procurement__purchase_orders') }}
    where requested_at < {{ as_of_end_ts() }}
)

select
    {{ dbt.concat(['kind', "'|'", 'record_id']) }} as approval_key,
    kind,
    record_id,
    account_id,
    vendor_id,
    created_by,
    approved_by,
    submitted_at,
    approved_at,
    status,
    cast(case when status = 'approved' then {{ hours_between('submitted_at', 'approved_at') }} end as decimal(18, 2)) as cycle_hours,
    status = 'pending' as is_pending,
    coalesce(approved_by = created_by, false) as sod_breach,
    case when status = 'approved' then approved_at when status = 'rejected' then rejected_at end as decided_at,
    amount,
    currency
from requests
