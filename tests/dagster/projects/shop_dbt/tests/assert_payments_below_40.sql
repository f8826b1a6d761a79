-- singular test on the same model: fails (one payment is 43 EUR), severity warn
{{ config(severity='warn') }}
select * from {{ ref('stg_payments') }} where amount >= 40
