-- Row counts and token/cost sums agree from raw through the star to the snowflake fact.
with

raw as (
    select count(*) as requests, sum(total_tokens) as tokens, sum(cost_usd) as cost
    from {{ source('raw_staging', 'api_requests') }}
),

star as (
    select count(*) as requests, sum(total_tokens) as tokens, sum(cost_usd) as cost
    from {{ ref('fct_api_requests') }}
),

snowflake as (
    select count(*) as requests, sum(total_tokens) as tokens, sum(cost_usd) as cost
    from {{ ref('fct_api_requests_sf') }}
),

rollup as (
    select sum(requests) as requests, sum(total_tokens) as tokens, sum(cost_usd) as cost
    from {{ ref('agg_usage_hourly') }}
)

select 'star' as layer, star.* from star, raw
where (star.requests, star.tokens, star.cost) is distinct from (raw.requests, raw.tokens, raw.cost)
union all
select 'snowflake', snowflake.* from snowflake, raw
where (snowflake.requests, snowflake.tokens, snowflake.cost) is distinct from (raw.requests, raw.tokens, raw.cost)
union all
select 'rollup', rollup.* from rollup, raw
where (rollup.requests, rollup.tokens, rollup.cost) is distinct from (raw.requests, raw.tokens, raw.cost)
