-- Fails at run time (Conversion Error) when the invocation passes --vars "{shop_fail_rank: true}".
select customer_id,
    {% if var('shop_fail_rank', false) %}cast(name as integer){% else %}length(name){% endif %}
        as name_number
from {{ ref('stg_customers') }}
