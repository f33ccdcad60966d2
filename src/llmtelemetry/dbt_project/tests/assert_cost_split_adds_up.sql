-- The billed cost is exactly the input plus output cost at the model's prices.
select request_id, cost_usd, input_cost_usd, output_cost_usd
from {{ ref('fct_api_requests') }}
where cost_usd <> input_cost_usd + output_cost_usd
