{{ config(materialized='view') }}

-- Weekly bars (Monday-start weeks), one row per symbol and week, dated by the week's last
-- trading day.
-- A view, not a table (marts default to tables): no stored copy of the bars; they are
-- aggregated from the daily bars when read. A filter on symbol reaches raw.prices_daily's
-- (symbol, trade_date) key, so the API reads one symbol's bars, as fast as reading the
-- intermediate view.
with weekly as (
    select * from {{ ref('int_weekly_bars') }}
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
