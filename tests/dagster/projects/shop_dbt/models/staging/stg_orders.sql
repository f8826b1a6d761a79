select o.id as order_id, o.customer_id, o.amount_cents * fx.rate / 100.0 as amount_eur
from {{ source('raw', 'orders') }} as o
join {{ source('raw', 'fx_rates') }} as fx on fx.currency = o.currency
