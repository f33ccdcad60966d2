{{ dim_models_body() }}
