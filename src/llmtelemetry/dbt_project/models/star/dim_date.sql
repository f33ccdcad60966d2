{{ dim_date_body() }}
