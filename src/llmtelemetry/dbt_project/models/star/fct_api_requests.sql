{{ config(post_hook=[
        "{{ add_primary_key('request_key') }}",
        "{{ add_foreign_key('user_key', 'dim_users', 'user_key') }}",
        "{{ add_foreign_key('model_key', 'dim_models', 'model_key') }}",
        "{{ add_foreign_key('endpoint_key', 'dim_endpoints', 'endpoint_key') }}",
        "{{ add_foreign_key('date_key', 'dim_date', 'date_key') }}",
    ]) }}
-- depends_on: {{ ref('dim_users') }}
-- depends_on: {{ ref('dim_models') }}
-- depends_on: {{ ref('dim_endpoints') }}
-- depends_on: {{ ref('dim_date') }}

with

requests as (

    select * from {{ ref('stg_api_requests') }}

),

prices as (

    select
        model_id,
        input_price_per_1m_tokens,
        output_price_per_1m_tokens
    from {{ ref('stg_models') }}

),

final as (

    select
        ----------  keys
        {{ generate_surrogate_key(['requests.request_id']) }} as request_key,
        requests.request_id,
        {{ generate_surrogate_key(['requests.user_id']) }} as user_key,
        {{ generate_surrogate_key(['requests.model_id']) }} as model_key,
        {{ generate_surrogate_key(['requests.endpoint_id']) }} as endpoint_key,
        requests.date_key,

        ----------  when
        requests.requested_at,
        requests.requested_hour_utc,
        requests.hour_of_day,

        ----------  measures
        requests.prompt_tokens,
        requests.completion_tokens,
        requests.total_tokens,
        cast(
            case when requests.is_success
                then requests.prompt_tokens * prices.input_price_per_1m_tokens / 1000000
                else 0
            end as numeric(18, 10)
        ) as input_cost_usd,
        cast(
            case when requests.is_success
                then requests.completion_tokens * prices.output_price_per_1m_tokens / 1000000
                else 0
            end as numeric(18, 10)
        ) as output_cost_usd,
        requests.cost_usd,
        requests.latency_ms,
        requests.time_to_first_token_ms,

        ----------  degenerate dimensions
        requests.http_status,
        requests.status_class,
        requests.error_type,
        requests.finish_reason,
        requests.region,
        requests.is_success,
        requests.is_streaming,
        requests.is_safety_flagged

    from requests
    left join prices
        on requests.model_id = prices.model_id

)

select * from final
