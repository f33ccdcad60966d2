with

users as (

    select * from {{ ref('stg_users') }}

),

final as (

    select
        {{ generate_surrogate_key(['user_id']) }} as user_key,
        user_id,
        full_name,
        email,
        company_name,
        company_domain,
        industry,
        company_size,
        country_code,
        billing_tier,
        signup_date
    from users

)

select * from final
