-- generate_surrogate_key behaves like dbt_utils': fields joined with '-', NULLs as a fixed token.
select 'two fields' as case_name
where {{ generate_surrogate_key(["'a'", "'b'"]) }} <> md5('a-b')
union all
select 'null field'
where {{ generate_surrogate_key(["cast(null as text)", "'b'"]) }} <> md5('_dbt_utils_surrogate_key_null_-b')
union all
select 'null differs from empty'
where {{ generate_surrogate_key(["cast(null as text)", "'b'"]) }} = {{ generate_surrogate_key(["''", "'b'"]) }}
union all
select 'numbers as text'
where {{ generate_surrogate_key(["42"]) }} <> md5('42')
