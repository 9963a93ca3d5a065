{{ config(indexes=[{'columns': ['symbol', 'period_start'], 'unique': True}, {'columns': ['period_start']}]) }}

-- The weekly market scanner on weekly bars (built from daily bars); the trend votes use
-- the daily indicators as of the week's last trading day.
with weekly as (
    select * from {{ ref('int_weekly_bars') }}
),

indicators as (
    select * from {{ ref('fct_indicators_daily') }}
),

bars as (
    select
        weekly.symbol, weekly.week_start as period_start, weekly.trade_date, weekly.open,
        weekly.high, weekly.low, weekly.close, weekly.volume,
        indicators.sma_50, indicators.sma_200, indicators.macd, indicators.macd_signal,
        indicators.rsi_14
    from weekly
    left join indicators
        on indicators.symbol = weekly.symbol and indicators.trade_date = weekly.trade_date
),

{{ scanner_ctes('bars') }},

final as (
    select * from scanned
)

select * from final
