{#- The market-scanner CTEs, shared by the daily and weekly scanners.  `bars` is a CTE with
    symbol, period_start, trade_date, open, high, low, close, volume, the trend inputs
    sma_50, sma_200, macd, macd_signal, rsi_14, and is_new: false for context rows (an
    incremental run's stored bars before the periods it recomputes, which the lookback
    windows reach back into — at least `scanner_lookback` per symbol), true for the rows
    to scan.  Produces the CTE `scanned`: the scanned rows of the new bars (the context
    only feeds the lookback windows; ranks are per period, over the new bars, so a period
    must be new for every symbol or for none). -#}
{% macro scanner_ctes(bars) %}
{%- set n = var('scanner_lookback') -%}
scan_history as (
    select
        *,
        lag(close) over by_symbol as prev_close,
        count(*) over (by_symbol rows between {{ n }} preceding and 1 preceding) as prior_bars,
        avg(volume) over (by_symbol rows between {{ n }} preceding and 1 preceding) as avg_volume,
        max(high) over (by_symbol rows between {{ n }} preceding and 1 preceding) as prior_high,
        min(low) over (by_symbol rows between {{ n }} preceding and 1 preceding) as prior_low
    from {{ bars }}
    window by_symbol as (partition by symbol order by trade_date)
),

scan_changes as (
    select
        *,
        close - prev_close as change,
        100 * (close - prev_close) / nullif(prev_close, 0) as change_pct,
        volume / nullif(avg_volume, 0) as volume_ratio,
        (high + low + close) / 3 as pivot,
        (case when sma_50 > sma_200 then 1 when sma_50 < sma_200 then -1 else 0 end)
        + (case when macd > macd_signal then 1 when macd < macd_signal then -1 else 0 end)
        + (case
            when rsi_14 > {{ var('scanner_rsi_bullish') }} then 1
            when rsi_14 < {{ var('scanner_rsi_bullish') }} then -1
            else 0
        end) as trend_score
    from scan_history
    where is_new
),

scan_flags as (
    select
        *,
        prior_bars = {{ n }} and volume > {{ var('scanner_unusual_volume_ratio') }} * avg_volume as is_unusual_volume,
        prior_bars = {{ n }} and close > prior_high as is_breakout_up,
        prior_bars = {{ n }} and close < prior_low as is_breakout_down,
        coalesce(abs(change_pct) > {{ var('scanner_big_move_pct') }}, false) as is_big_move,
        case
            when trend_score >= {{ var('scanner_trend_votes') }} then 'Bullish'
            when trend_score <= -{{ var('scanner_trend_votes') }} then 'Bearish'
            else 'Neutral'
        end as trend,
        2 * pivot - high as support_1,
        2 * pivot - low as resistance_1,
        pivot - (high - low) as support_2,
        pivot + (high - low) as resistance_2,
        case when prior_bars = {{ n }} then least(prior_low, low) end as swing_support,
        case when prior_bars = {{ n }} then greatest(prior_high, high) end as swing_resistance,
        case when change_pct is not null then
            row_number() over (partition by period_start, change_pct is null order by change_pct desc, symbol)
        end as gainer_rank,
        case when change_pct is not null then
            row_number() over (partition by period_start, change_pct is null order by change_pct, symbol)
        end as loser_rank,
        row_number() over (partition by period_start order by volume desc, symbol) as active_rank
    from scan_changes
),

scanned as (
    select
        symbol, period_start, trade_date, open, high, low, close, volume,
        sma_50, sma_200, macd, macd_signal, rsi_14,
        prev_close, prior_bars, avg_volume, prior_high, prior_low,
        change, change_pct, volume_ratio, pivot, trend_score,
        is_unusual_volume, is_breakout_up, is_breakout_down, is_big_move, trend,
        support_1, resistance_1, support_2, resistance_2, swing_support, swing_resistance,
        gainer_rank, loser_rank, active_rank
    from scan_flags
)
{% endmacro %}

{#- The context rows of an incremental scanner run (a CTE body): for each symbol of the
    CTE `new_bars`, its last `scanner_lookback` bars before the first recomputed period
    (the CTE `changed`, column period_from), read from `stored` — a relation holding the
    bar columns, keyed on (symbol, `period`) — whose rows before that period are
    unchanged. One backward index probe a symbol. -#}
{% macro scanner_context(new_bars, changed, stored, period='period_start') %}
select prior.*, false as is_new
    from (select distinct symbol from {{ new_bars }}) as symbols
    cross join {{ changed }}
    cross join lateral (
        select
            stored.symbol, stored.{{ period }} as period_start, stored.trade_date, stored.open,
            stored.high, stored.low, stored.close, stored.volume, stored.sma_50, stored.sma_200,
            stored.macd, stored.macd_signal, stored.rsi_14
        from {{ stored }} as stored
        where stored.symbol = symbols.symbol and stored.{{ period }} < {{ changed }}.period_from
        order by stored.{{ period }} desc
        limit {{ var('scanner_lookback') }}
    ) as prior
{%- endmacro %}
