{#- Mean over the last n bars from exact (numeric) running sums: O(1) a row, where a
    sliding window frame re-adds n values for every row; NULL until the symbol has n bars.
    Needs row_num and the window by_symbol (partition by symbol order by trade_date).
    `stored`, `current`: see running_sum_back. -#}
{% macro trailing_mean(running_sum, n, stored=none, current=none) -%}
case when row_num >= {{ n }} then ((
    {{ running_sum }} - {{ running_sum_back(running_sum, n, stored, current) }}
) / {{ n }})::float8 end
{%- endmacro %}

{#- The running sum n bars back (0 before the first bar). An incremental run computes only
    the bars from a symbol's first changed one: where n bars back lies before them, the
    value is read from `stored` (the mart) by its (symbol, row_num) key, for the row of
    the relation or CTE `current` — a few index probes a symbol, not its history. -#}
{% macro running_sum_back(running_sum, n, stored=none, current=none) -%}
coalesce(
            lag({{ running_sum }}, {{ n }}) over by_symbol,
            {%- if stored %}
            (
                select back.{{ running_sum }} from {{ stored }} as back
                where back.symbol = {{ current }}.symbol and back.row_num = {{ current }}.row_num - {{ n }}
            ),
            {%- endif %}
            0
        )
{%- endmacro %}
