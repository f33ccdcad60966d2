with

models as (

    select * from {{ ref('stg_models') }}

),

final as (

    select
        {{ generate_surrogate_key(['model_id']) }} as model_key,
        model_id,
        model_name,
        provider,
        model_family,
        context_window,
        input_price_per_1m_tokens,
        output_price_per_1m_tokens,
        released_date
    from models

)

select * from final
