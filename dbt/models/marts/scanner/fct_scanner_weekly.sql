{{
    config(
        pre_hook=[
            "{{ change_window_start() }}",
            "{{ delete_changed_periods(ref('fct_indicators_daily'), 'week') }}",
        ],
        post_hook=[
            "{{ log_changes('select null, ' ~ changed_periods_from(ref('fct_indicators_daily'), 'week')) }}",
            "{{ change_window_end(ref('fct_indicators_daily')) }}",
        ],
        indexes=[
            {'columns': ['symbol', 'period_start'], 'unique': True},
            {'columns': ['period_start', 'gainer_rank'], 'unique': True},
            {'columns': ['period_start', 'active_rank'], 'unique': True},
        ],
    )
}}

-- The weekly market scanner on weekly bars (built from daily bars); the trend votes use
-- the daily indicators as of the week's last trading day.
-- Incremental: a build rescans every symbol's weeks from the week of the earliest day the
-- indicators changed on (ops.change_log, stream marts.fct_indicators_daily) — a new day
-- rescans the current week, a late bar its week and those after (later weeks' trend
-- votes and lookbacks moved too) — building only those weeks' bars from their daily bars
-- (macro weekly_bars, as int_weekly_bars does; the indicator rows carry the bars); the
-- lookback reaches into the stored weeks before them. It logs the first rescanned week
-- for the movers and overview marts.
with weekly as (
    select * from {{ ref('int_weekly_bars') }}
),

-- read twice on an incremental run, each time through an index: never materialized whole
indicators as not materialized (
    select * from {{ ref('fct_indicators_daily') }}
),

{% if is_incremental() %}
changed as (
    select {{ changed_periods_from(ref('fct_indicators_daily'), 'week') }} as period_from
),

-- the changed weeks' daily bars: the indicator rows carry them (the adjusted bars of
-- stg_prices_daily), through the mart's trade_date index
changed_days as (
    select * from indicators where indicators.trade_date >= (select changed.period_from from changed)
),

changed_weeks as (
    {{ weekly_bars('changed_days') }}
),

new_bars as (
    select
        changed_weeks.symbol, changed_weeks.week_start as period_start, changed_weeks.trade_date,
        changed_weeks.open, changed_weeks.high, changed_weeks.low, changed_weeks.close,
        changed_weeks.volume, indicators.sma_50, indicators.sma_200, indicators.macd,
        indicators.macd_signal, indicators.rsi_14, true as is_new
    from changed_weeks
    left join indicators
        on indicators.symbol = changed_weeks.symbol
        and indicators.trade_date = changed_weeks.trade_date
        and indicators.trade_date >= (select changed.period_from from changed)
),

context as (
    {{ scanner_context('new_bars', 'changed', this) }}
),

bars as (
    select * from new_bars
    union all
    select * from context
),
{% else %}
bars as (
    select
        weekly.symbol, weekly.week_start as period_start, weekly.trade_date, weekly.open,
        weekly.high, weekly.low, weekly.close, weekly.volume,
        indicators.sma_50, indicators.sma_200, indicators.macd, indicators.macd_signal,
        indicators.rsi_14, true as is_new
    from weekly
    left join indicators
        on indicators.symbol = weekly.symbol and indicators.trade_date = weekly.trade_date
),
{% endif %}

{{ scanner_ctes('bars') }},

final as (
    select * from scanned
)

select * from final
