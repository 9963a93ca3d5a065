{#- SMA-seeded exponential smoothing (the stockmind.smoothed aggregate): `smoothing` and its
    two forms `ema` and `wilder`, and `running_stats`, the running count and sum they seed
    from. -#}

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
