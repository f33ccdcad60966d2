with

source as (

    select * from {{ source('raw_staging', 'models') }}

),

renamed as (

    select

        ----------  ids
        model_id,

        ----------  text
        model_name,
        lower(provider) as provider,
        model_family,

        ----------  numerics
        context_window,
        input_price_per_1m_tokens,
        output_price_per_1m_tokens,

        ----------  dates
        released_date

    from source

)

select * from renamed
