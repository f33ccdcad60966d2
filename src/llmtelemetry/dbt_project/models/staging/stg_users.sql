with

source as (

    select * from {{ source('raw_staging', 'users') }}

),

renamed as (

    select

        ----------  ids
        user_id,

        ----------  text
        full_name,
        lower(email) as email,
        company_name,
        lower(company_domain) as company_domain,
        industry,
        company_size,
        upper(country_code) as country_code,
        lower(billing_tier) as billing_tier,

        ----------  dates
        signup_date

    from source

)

select * from renamed
