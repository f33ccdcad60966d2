with

source as (

    select * from {{ source('raw_staging', 'endpoints') }}

),

renamed as (

    select

        ----------  ids
        endpoint_id,

        ----------  text
        path,
        upper(method) as method,
        operation,

        ----------  booleans
        supports_streaming

    from source

)

select * from renamed
