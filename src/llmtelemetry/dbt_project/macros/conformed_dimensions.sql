{#-
    The bodies of the conformed dimensions, shared by the star schema and the snowflake schema
    (same rows and columns in both; each schema has its own table).
-#}

{% macro dim_date_body() %}
with

dates as (

    select * from {{ ref('stg_dates') }}

),

final as (

    select
        date_key,
        calendar_date,
        year,
        cast(quarter as smallint) as quarter,
        cast(month as smallint) as month,
        month_name,
        cast(week_of_year as smallint) as week_of_year,
        cast(day_of_week as smallint) as day_of_week,
        day_name,
        is_weekend
    from dates

)

select * from final
{% endmacro %}

{% macro dim_models_body() %}
with

models as (

    select * from {{ ref('stg_models') }}

),

final as (

    select
        {{ generate_surrogate_key(['model_id']) }} as model_key,
        model_id,
        model_name,
        provider,
        model_family,
        context_window,
        input_price_per_1m_tokens,
        output_price_per_1m_tokens,
        released_date
    from models

)

select * from final
{% endmacro %}

{% macro dim_endpoints_body() %}
with

endpoints as (

    select * from {{ ref('stg_endpoints') }}

),

final as (

    select
        {{ generate_surrogate_key(['endpoint_id']) }} as endpoint_key,
        endpoint_id,
        path,
        method,
        operation,
        supports_streaming
    from endpoints

)

select * from final
{% endmacro %}
