with

tiers as (

    select * from {{ ref('billing_tiers') }}

),

final as (

    select
        {{ generate_surrogate_key(['billing_tier']) }} as tier_key,
        billing_tier,
        tier_rank,
        monthly_price_usd,
        requests_per_minute,
        tokens_per_minute,
        request_weight,
        default_user_share
    from tiers

)

select * from final
