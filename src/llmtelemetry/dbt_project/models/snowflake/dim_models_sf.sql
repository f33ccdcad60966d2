{{ config(alias='dim_models') }}

{{ dim_models_body() }}
