{{
    config(
        pre_hook=[
            "{{ change_window_start() }}",
            "{{ delete_changed_periods(ref('fct_indicators_daily')) }}",
        ],
        post_hook=[
            "{{ log_changes('select null, ' ~ changed_periods_from(ref('fct_indicators_daily'))) }}",
            "{{ change_window_end(ref('fct_indicators_daily')) }}",
        ],
        indexes=[
            {'columns': ['symbol', 'period_start'], 'unique': True},
            {'columns': ['period_start', 'gainer_rank'], 'unique': True},
            {'columns': ['period_start', 'active_rank'], 'unique': True},
        ],
    )
}}

-- The daily market scanner: per symbol and day, % change and ranks, unusual volume,
-- breakouts, trend, and support/resistance levels (thresholds: dbt vars scanner_*).
-- Incremental: a build rescans every symbol's days from the earliest day the indicators
-- changed on (ops.change_log, stream marts.fct_indicators_daily; ranks are per day, so a
-- changed day is rescanned whole), the pre-hook having deleted those days; the lookback
-- reaches into the bars before them. It logs the first rescanned day for the movers and
-- overview marts.
with indicators as (
    select * from {{ ref('fct_indicators_daily') }}
),

{% if is_incremental() %}
changed as (
    select {{ changed_periods_from(ref('fct_indicators_daily')) }} as period_from
),

new_bars as (
    select
        indicators.symbol, indicators.trade_date as period_start, indicators.trade_date,
        indicators.open, indicators.high, indicators.low, indicators.close, indicators.volume,
        indicators.sma_50, indicators.sma_200, indicators.macd, indicators.macd_signal,
        indicators.rsi_14, true as is_new
    from indicators
    where indicators.trade_date >= (select changed.period_from from changed)
),

-- the lookback before them: the indicator rows are the daily bars (clustered by symbol)
context as (
    {{ scanner_context('new_bars', 'changed', ref('fct_indicators_daily'), 'trade_date') }}
),

bars as (
    select * from new_bars
    union all
    select * from context
),
{% else %}
bars as (
    select
        symbol, trade_date as period_start, trade_date, open, high, low, close, volume,
        sma_50, sma_200, macd, macd_signal, rsi_14, true as is_new
    from indicators
),
{% endif %}

{{ scanner_ctes('bars') }},

final as (
    select * from scanned
)

select * from final
