{{ config(alias='dim_endpoints') }}

with

endpoints as (

    select * from {{ ref('stg_endpoints') }}

),

final as (

    select
        {{ generate_surrogate_key(['endpoint_id']) }} as endpoint_key,
        endpoint_id,
        path,
        method,
        operation,
        supports_streaming
    from endpoints

)

select * from final
