{{ config(materialized='view') }}

-- Weekly bars (Monday-start weeks), one row per symbol and week, dated by the week's last
-- trading day.
-- A view, not a table (marts default to tables): aggregated from the daily bars when
-- read; a filter on symbol reaches raw.prices_daily's (symbol, trade_date) key.
-- It reads the source through the macros staging and int_weekly_bars use
-- (adjusted_prices, weekly_bars), not those views: dbt rebuilds a view by dropping its
-- predecessor with CASCADE, which would drop this one for the length of every build.
with source as (
    select * from {{ source('raw', 'prices_daily') }}
),

daily as (
    {{ adjusted_prices('source') }}
),

weekly as (
    {{ weekly_bars('daily') }}
),

final as (
    select
        symbol,
        week_start,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        trading_days
    from weekly
)

select * from final
