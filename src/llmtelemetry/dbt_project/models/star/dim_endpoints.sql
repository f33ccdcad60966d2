{{ dim_endpoints_body() }}
