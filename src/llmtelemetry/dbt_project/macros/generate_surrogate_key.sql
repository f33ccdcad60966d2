{#-
    A surrogate key with dbt_utils' semantics, kept in the project so no `dbt deps` (and no
    network) is needed: md5 over the fields cast to text and joined with '-', a NULL field
    replaced by a fixed token so that (NULL, 'a') and ('', 'a') differ.
-#}
{%- macro generate_surrogate_key(field_list) -%}
    {%- set null_token = "'_dbt_utils_surrogate_key_null_'" -%}
    {%- set fields = [] -%}
    {%- for field in field_list -%}
        {%- do fields.append("coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), " ~ null_token ~ ")") -%}
        {%- if not loop.last -%}{%- do fields.append("'-'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro -%}
