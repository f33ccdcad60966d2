with

users as (

    select * from {{ ref('stg_users') }}

),

companies as (

    -- Every user of a company carries the same company attributes; the domain identifies it.
    select
        company_domain,
        min(company_name) as company_name,
        min(industry) as industry,
        min(company_size) as company_size,
        min(country_code) as country_code,
        count(*) as user_count
    from users
    group by company_domain

),

final as (

    select
        {{ generate_surrogate_key(['company_domain']) }} as company_key,
        company_domain,
        company_name,
        industry,
        company_size,
        country_code,
        cast(user_count as integer) as user_count
    from companies

)

select * from final
