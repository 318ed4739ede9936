{# The columns together identify a row, as dbt_utils.unique_combination_of_columns checks;
   a dbt package cannot be fetched here. #}
{% test unique_key_columns(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
