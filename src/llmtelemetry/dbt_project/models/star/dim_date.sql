with

dates as (

    select * from {{ ref('stg_dates') }}

),

final as (

    select
        date_key,
        calendar_date,
        year,
        cast(quarter as smallint) as quarter,
        cast(month as smallint) as month,
        month_name,
        cast(week_of_year as smallint) as week_of_year,
        cast(day_of_week as smallint) as day_of_week,
        day_name,
        is_weekend
    from dates

)

select * from final
