{#- Top-N lists (gainers, losers, most active) from a scanner model. -#}
{% macro movers(scanner) %}
{%- set top = var('scanner_top_n') -%}
with scanner as (
    select * from {{ ref(scanner) }}
),

lists as (
    select period_start, trade_date, 'gainers' as list, gainer_rank as rank, symbol, close, change_pct, volume
    from scanner where gainer_rank <= {{ top }} and change_pct > 0
    union all
    select period_start, trade_date, 'losers', loser_rank, symbol, close, change_pct, volume
    from scanner where loser_rank <= {{ top }} and change_pct < 0
    union all
    select period_start, trade_date, 'most_active', active_rank, symbol, close, change_pct, volume
    from scanner where active_rank <= {{ top }}
),

final as (
    select * from lists
)

select * from final
{% endmacro %}
