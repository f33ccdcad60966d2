{#- A model-level test: no two rows share the same values of `columns`. -#}
{% test dbt_expect_unique_grain(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as rows_in_grain
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
