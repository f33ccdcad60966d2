with

source as (

    select * from {{ source('raw_staging', 'dates') }}

),

renamed as (

    select

        ----------  ids
        date_key,

        ----------  dates
        date as calendar_date,
        year,
        quarter,
        month,
        month_name,
        week_of_year,
        day_of_week,
        day_name,

        ----------  booleans
        is_weekend

    from source

)

select * from renamed
