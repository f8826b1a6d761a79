-- Compiles differently per run: the threshold comes from the environment of the run.
select customer_id, order_count
from {{ ref('customer_orders') }}
where order_count >= {{ env_var('SHOP_MIN_ORDERS', '1') }}
