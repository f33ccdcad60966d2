{{ config(alias='dim_date') }}

{{ dim_date_body() }}
