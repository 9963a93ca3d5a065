{#- Mean over the last n bars from exact (numeric) running sums: O(1) a row, where a
    sliding window frame re-adds n values for every row; NULL until the symbol has n bars. -#}
{% macro trailing_mean(running_sum, n) -%}
case when row_num >= {{ n }} then ((
    {{ running_sum }} - coalesce(lag({{ running_sum }}, {{ n }}) over by_symbol, 0)
) / {{ n }})::float8 end
{%- endmacro %}
