-- rule: R10 approval cycle. is_pending is status = pending; only approved requests carry cycle hours,
-- never negative (approved after submission); pending requests have no approval time.
select *
from {{ ref('approvals') }}
where is_pending <> (status = 'pending')
    or (cycle_hours is not null and status <> 'approved')
    or cycle_hours < 0
    or (status = 'pending' and approved_at is not null)
