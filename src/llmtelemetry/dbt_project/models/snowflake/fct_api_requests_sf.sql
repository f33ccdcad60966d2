{{ config(post_hook=[
        "{{ add_primary_key('request_key') }}",
        "{{ add_foreign_key('user_key', 'dim_users_sf', 'user_key') }}",
        "{{ add_foreign_key('model_key', 'dim_models_sf', 'model_key') }}",
        "{{ add_foreign_key('endpoint_key', 'dim_endpoints_sf', 'endpoint_key') }}",
        "{{ add_foreign_key('date_key', 'dim_date_sf', 'date_key') }}",
    ]) }}
-- depends_on: {{ ref('dim_users_sf') }}
-- depends_on: {{ ref('dim_models_sf') }}
-- depends_on: {{ ref('dim_endpoints_sf') }}
-- depends_on: {{ ref('dim_date_sf') }}

with

requests as (

    select * from {{ ref('stg_api_requests') }}

),

final as (

    -- Same grain as the star fact; company and tier are reached through dim_users_sf.
    select
        ----------  keys
        {{ generate_surrogate_key(['request_id']) }} as request_key,
        request_id,
        {{ generate_surrogate_key(['user_id']) }} as user_key,
        {{ generate_surrogate_key(['model_id']) }} as model_key,
        {{ generate_surrogate_key(['endpoint_id']) }} as endpoint_key,
        date_key,

        ----------  when
        requested_at,

        ----------  measures
        prompt_tokens,
        completion_tokens,
        total_tokens,
        cost_usd,
        latency_ms,
        time_to_first_token_ms,

        ----------  degenerate dimensions
        http_status,
        status_class,
        is_success,
        is_streaming,
        is_safety_flagged

    from requests

)

select * from final
