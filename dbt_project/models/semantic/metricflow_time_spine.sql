-- The semantic layer's day calendar (MetricFlow time spine): every day from 2000-01-01 to the last
-- day of the as-of month. Portable (no generate_series); 2^14 days reach past 2044.
select cast({{ add_days('n.n', "cast('2000-01-01' as date)") }} as date) as date_day
from {{ integers(14) }} as n
where {{ add_days('n.n', "cast('2000-01-01' as date)") }}
    < {{ add_months(1, month_start(as_of_date())) }}
