{#- Running count and sum of a series (the SMA seed of its smoothing), over `running`. -#}
{% macro running_stats(value) -%}
count({{ value }}) over running as n_{{ value }},
        sum({{ value }}) over running as sum_{{ value }}
{%- endmacro %}

{#- SMA-seeded exponential smoothing of `value` over the symbol's bars: starts on the n-th
    value with the mean of the first n, or continues from `prior` (a stored value) on the
    rows an incremental run recomputes (`is_new`).  Needs running_stats(value) from an
    earlier CTE. -#}
{% macro smoothing(value, alpha, n, prior) -%}
stockmind.smoothed({{ value }}, {{ alpha }}, sum_{{ value }} / {{ n }}, {{ prior }})
            filter (where is_new and ({{ prior }} is not null or n_{{ value }} >= {{ n }})) over running
{%- endmacro %}

{% macro ema(value, n, prior) -%}
{{ smoothing(value, '2.0 / ' ~ (n + 1), n, prior) }}
{%- endmacro %}

{% macro wilder(value, n, prior) -%}
{{ smoothing(value, '1.0 / ' ~ n, n, prior) }}
{%- endmacro %}

{#- Mean over the last n bars from exact (numeric) running sums: O(1) a row, where a
    sliding window frame re-adds n values for every row; NULL until the symbol has n bars. -#}
{% macro trailing_mean(running_sum, n) -%}
case when row_num >= {{ n }} then ((
    {{ running_sum }} - coalesce(lag({{ running_sum }}, {{ n }}) over by_symbol, 0)
) / {{ n }})::float8 end
{%- endmacro %}
