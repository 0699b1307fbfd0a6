{#- Generic tests cohortflow needs without pulling a hub package (CI installs offline from PyPI). -#}

{#- No two rows share the same values in `combination_of_columns`. -#}
{% test unique_combination(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Every row satisfies the boolean SQL `expression`. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
