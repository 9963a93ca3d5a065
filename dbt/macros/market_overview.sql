{#- One row per period: breadth and trend counts across the scanned symbols. On an
    incremental run only the periods from the scanner's first rescanned one (its
    change-log stream) are counted again; the model's pre-hook (delete_changed_periods)
    removed their old rows. -#}
{% macro market_overview(scanner) %}
-- depends_on: {{ source('ops', 'change_log') }}
with scanner as (
    select * from {{ ref(scanner) }}
    {%- if is_incremental() %}
    where period_start >= {{ changed_periods_from(ref(scanner)) }}
    {%- endif %}
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
