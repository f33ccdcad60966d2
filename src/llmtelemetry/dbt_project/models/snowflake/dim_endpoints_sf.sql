{{ config(alias='dim_endpoints') }}

{{ dim_endpoints_body() }}
