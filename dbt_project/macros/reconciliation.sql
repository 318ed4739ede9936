{#
    Count tolerance and auto-approve limit by ABC class, as ratios (0.01 = 1%). The vars
    `count_tolerance_by_abc_class` and `count_auto_approve_limit_by_abc_class` override the
    classes they name; the key `none` is for SKUs without a class (or absent from skus). A class
    without an auto-approve limit uses its tolerance.
#}
{% macro count_tolerance(abc_class) -%}
    {%- set classes = {'A': 0.01, 'B': 0.03, 'C': 0.05, 'none': 0.02} -%}
    {%- do classes.update(var('count_tolerance_by_abc_class', {})) -%}
    {{ _by_abc_class(abc_class, classes) }}
{%- endmacro %}

{% macro count_auto_approve_limit(abc_class) -%}
    {%- set classes = {'A': 0.01, 'B': 0.03, 'C': 0.05, 'none': 0.02} -%}
    {%- do classes.update(var('count_tolerance_by_abc_class', {})) -%}
    {%- do classes.update(var('count_auto_approve_limit_by_abc_class', {})) -%}
    {{ _by_abc_class(abc_class, classes) }}
{%- endmacro %}

{% macro _by_abc_class(abc_class, classes) -%}
    case {{ abc_class }}
        {%- for class, ratio in classes.items() if class != 'none' %}
        when '{{ class }}' then {{ ratio }}::numeric
        {%- endfor %}
        else {{ classes['none'] }}::numeric
    end
{%- endmacro %}

{# |quantity| within `ratio` of |base|, inclusive; multiplied out so no quotient is rounded. #}
{% macro within_ratio(quantity, base, ratio) -%}
    (abs({{ quantity }}) <= {{ ratio }} * abs({{ base }}))
{%- endmacro %}
