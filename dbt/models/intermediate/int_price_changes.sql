-- Per-bar inputs of the indicators that need the previous bar: change, gain/loss (RSI),
-- true range (ATR; the first bar's TR is high - low), OBV's signed volume (an unchanged
-- close adds nothing), and the bar's position in its symbol's history (warm-up rules).
with prices as (
    select * from {{ ref('stg_prices_daily') }}
),

with_previous as (
    select
        *,
        lag(close) over by_symbol as prev_close,
        row_number() over by_symbol as row_num
    from prices
    window by_symbol as (partition by symbol order by trade_date)
),

final as (
    select
        symbol,
        trade_date,
        row_num,
        open,
        high,
        low,
        close,
        volume,
        ingested_at,
        prev_close,
        {{ bar_inputs() }}
    from with_previous
)

select * from final
