-- dbt skips it under `dbt build`: customer_rank, which it reads, fails.
select customer_id, name_number from {{ ref('customer_rank') }}
