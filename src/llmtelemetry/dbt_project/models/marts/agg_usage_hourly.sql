with

requests as (

    select * from {{ ref('fct_api_requests') }}

),

models as (

    select model_key, model_name, provider from {{ ref('dim_models') }}

),

users as (

    select user_key, billing_tier from {{ ref('dim_users') }}

),

final as (

    select
        requests.requested_hour_utc as hour_utc,
        requests.date_key,
        models.model_name,
        models.provider,
        users.billing_tier,
        count(*) as requests,
        count(*) filter (where requests.is_success) as successful_requests,
        count(*) filter (where requests.http_status = 429) as rate_limited_requests,
        count(*) filter (where requests.status_class in ('server_error', 'client_error')) as failed_requests,
        count(*) filter (where requests.is_safety_flagged) as flagged_requests,
        sum(requests.prompt_tokens) as prompt_tokens,
        sum(requests.completion_tokens) as completion_tokens,
        sum(requests.total_tokens) as total_tokens,
        cast(sum(requests.cost_usd) as numeric(20, 10)) as cost_usd,
        sum(requests.latency_ms) as latency_ms_sum
    from requests
    inner join models
        on requests.model_key = models.model_key
    inner join users
        on requests.user_key = users.user_key
    group by 1, 2, 3, 4, 5

)

select * from final
