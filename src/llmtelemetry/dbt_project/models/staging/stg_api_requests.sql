with

source as (

    select * from {{ source('raw_staging', 'api_requests') }}

),

renamed as (

    select

        ----------  ids
        request_id,
        user_id,
        model_id,
        endpoint_id,
        cast(to_char(requested_at at time zone 'UTC', 'YYYYMMDD') as integer) as date_key,

        ----------  numerics
        prompt_tokens,
        completion_tokens,
        total_tokens,
        latency_ms,
        time_to_first_token_ms,
        http_status,
        cost_usd,

        ----------  categories
        case
            when http_status = 200 then 'success'
            when http_status = 429 then 'rate_limited'
            when http_status >= 500 then 'server_error'
            else 'client_error'
        end as status_class,
        error_type,
        finish_reason,
        region,

        ----------  booleans
        http_status = 200 as is_success,
        is_streaming,
        is_safety_flagged,

        ----------  timestamps
        requested_at,
        date_trunc('hour', requested_at at time zone 'UTC') as requested_hour_utc,
        cast(extract(hour from requested_at at time zone 'UTC') as smallint) as hour_of_day

    from source

)

select * from renamed
