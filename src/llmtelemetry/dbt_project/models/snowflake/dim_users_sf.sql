{{ config(post_hook=[
        "{{ add_foreign_key('company_key', 'dim_companies', 'company_key') }}",
        "{{ add_foreign_key('tier_key', 'dim_billing_tiers', 'tier_key') }}",
    ]) }}
-- depends_on: {{ ref('dim_companies') }}
-- depends_on: {{ ref('dim_billing_tiers') }}

with

users as (

    select * from {{ ref('stg_users') }}

),

companies as (

    select company_key, company_domain from {{ ref('dim_companies') }}

),

tiers as (

    select tier_key, billing_tier from {{ ref('dim_billing_tiers') }}

),

final as (

    select
        {{ generate_surrogate_key(['users.user_id']) }} as user_key,
        users.user_id,
        users.full_name,
        users.email,
        companies.company_key,
        tiers.tier_key,
        users.signup_date
    from users
    inner join companies
        on users.company_domain = companies.company_domain
    inner join tiers
        on users.billing_tier = tiers.billing_tier

)

select * from final
