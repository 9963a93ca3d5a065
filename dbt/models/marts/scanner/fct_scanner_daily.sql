{{ config(indexes=[{'columns': ['symbol', 'period_start'], 'unique': True}, {'columns': ['period_start']}]) }}

-- The daily market scanner: per symbol and day, % change and ranks, unusual volume,
-- breakouts, trend, and support/resistance levels (thresholds: dbt vars scanner_*).
with indicators as (
    select * from {{ ref('fct_indicators_daily') }}
),

bars as (
    select
        symbol, trade_date as period_start, trade_date, open, high, low, close, volume,
        sma_50, sma_200, macd, macd_signal, rsi_14
    from indicators
),

{{ scanner_ctes('bars') }},

final as (
    select * from scanned
)

select * from final
