{#- One row per period: breadth and trend counts across the scanned symbols. -#}
{% macro market_overview(scanner) %}
with scanner as (
    select * from {{ ref(scanner) }}
),

final as (
    select
        period_start,
        max(trade_date) as trade_date,
        count(*) as total_scanned,
        count(*) filter (where trend = 'Bullish') as bullish,
        count(*) filter (where trend = 'Bearish') as bearish,
        count(*) filter (where trend = 'Neutral') as neutral,
        avg(change_pct) as avg_change_pct,
        count(*) filter (where change > 0) as advancers,
        count(*) filter (where change < 0) as decliners,
        count(*) filter (where change = 0) as unchanged,
        count(*) filter (where is_unusual_volume) as unusual_volume,
        count(*) filter (where is_breakout_up) as breakouts_up,
        count(*) filter (where is_breakout_down) as breakouts_down
    from scanner
    group by period_start
)

select * from final
{% endmacro %}
