{#- Top-N lists (gainers, losers, most active) from a scanner model. On an incremental run
    only the periods from the scanner's first rescanned one (its change-log stream) are
    listed again; the model's pre-hook (delete_changed_periods) removed their old lists. -#}
{% macro movers(scanner) %}
{%- set top = var('scanner_top_n') -%}
-- depends_on: {{ source('ops', 'change_log') }}
with scanner as (
    select * from {{ ref(scanner) }}
    {%- if is_incremental() %}
    where period_start >= {{ changed_periods_from(ref(scanner)) }}
    {%- endif %}
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
