select co.customer_id, co.total_eur, sum(p.amount) as paid
from {{ ref('customer_orders') }} as co
left join {{ ref('stg_orders') }} as o on o.customer_id = co.customer_id
left join {{ ref('stg_payments') }} as p on p.order_id = o.order_id
group by co.customer_id, co.total_eur
