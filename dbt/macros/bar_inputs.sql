{#- Per-bar inputs of RSI, ATR and OBV from a bar and the previous close: gain/loss (NULL on
    a first bar — greatest() would turn NULL into 0), true range (high − low on a first
    bar), and OBV's signed volume (an unchanged close adds nothing). -#}
{% macro bar_inputs(prev_close='prev_close') -%}
close - {{ prev_close }} as change,
        case when {{ prev_close }} is not null then greatest(close - {{ prev_close }}, 0) end as gain,
        case when {{ prev_close }} is not null then greatest({{ prev_close }} - close, 0) end as loss,
        case
            when {{ prev_close }} is null then high - low
            else greatest(high - low, abs(high - {{ prev_close }}), abs(low - {{ prev_close }}))
        end as true_range,
        sign(close - {{ prev_close }}) * volume as obv_delta
{%- endmacro %}
