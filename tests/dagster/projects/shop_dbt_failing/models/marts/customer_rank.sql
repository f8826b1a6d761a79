-- Fails at run time in DuckDB (Conversion Error: a name is not an integer).
select customer_id, cast(name as integer) as name_number
from {{ ref('customer_orders') }}
