{{
    config(
        materialized='incremental',
        pre_hook="set work_mem = '256MB'",
        unique_key=['symbol', 'trade_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['symbol', 'trade_date'], 'unique': True},
            {'columns': ['trade_date']},
        ],
    )
}}

{#-
  Technical indicators, one row per symbol and trading day (StockCharts / TA-Lib
  definitions, on adjusted prices).  Incremental runs recompute, per symbol, from the
  earliest bar loaded or changed since the last run (late and backfilled bars included),
  continuing every smoothed series from the stored row just before it; a symbol without
  such a warmed-up row is recomputed whole.  Either way the result equals a full refresh.
-#}

with prices as (
    select * from {{ ref('int_price_changes') }}
),

{% set seeds = ['ema_12', 'ema_26', 'macd_signal', 'avg_gain_14', 'avg_loss_14', 'atr_14', 'obv'] %}

{% if is_incremental() %}
changed as (
    select symbol, min(trade_date) as first_changed
    from prices
    where ingested_at > (
        select coalesce(max(source_ingested_at), '-infinity'::timestamptz) from {{ this }}
    ) - interval '{{ var("indicator_watermark_lag") }}'
    group by symbol
),

anchors as (
    select distinct on (stored.symbol) stored.*
    from {{ this }} as stored
    inner join changed on changed.symbol = stored.symbol and stored.trade_date < changed.first_changed
    order by stored.symbol, stored.trade_date desc
),

plan as (
    select
        changed.symbol,
        case
            when anchors.row_num >= {{ var('indicator_min_anchor_rows') }} then changed.first_changed
            else '-infinity'::date
        end as from_date,
        {%- for col in seeds %}
        case when anchors.row_num >= {{ var('indicator_min_anchor_rows') }} then anchors.{{ col }} end as seed_{{ col }}{{ ',' if not loop.last }}
        {%- endfor %}
    from changed
    left join anchors on anchors.symbol = changed.symbol
),

scoped as (
    select
        prices.*,
        {%- for col in seeds %}
        plan.seed_{{ col }},
        {%- endfor %}
        prices.trade_date >= plan.from_date as is_new
    from prices
    inner join plan on plan.symbol = prices.symbol
),
{% else %}
-- full refresh: every bar is new, nothing to continue from (and no join, so the window
-- ordering of the input carries through without another sort)
scoped as (
    select
        prices.*,
        {%- for col in seeds %}
        null::float8 as seed_{{ col }},
        {%- endfor %}
        true as is_new
    from prices
),
{% endif %}

running_stats as (
    select
        *,
        {{ running_stats('close') }},
        {{ running_stats('gain') }},
        {{ running_stats('loss') }},
        {{ running_stats('true_range') }},
        sum(close::numeric) over running as sum_close_exact,
        sum(close::numeric * close::numeric) over running as sum_close_sq_exact
    from scoped
    window running as (partition by symbol order by trade_date rows between unbounded preceding and current row)
),

smoothed as (
    select
        *,
        {{ ema('close', 12, 'seed_ema_12') }} as ema_12,
        {{ ema('close', 26, 'seed_ema_26') }} as ema_26,
        {{ wilder('gain', 14, 'seed_avg_gain_14') }} as avg_gain_14,
        {{ wilder('loss', 14, 'seed_avg_loss_14') }} as avg_loss_14,
        {{ wilder('true_range', 14, 'seed_atr_14') }} as atr_14,
        case
            when row_num > 1
                then coalesce(seed_obv, 0) + sum(obv_delta) filter (where is_new) over running
        end as obv
    from running_stats
    window running as (partition by symbol order by trade_date rows between unbounded preceding and current row)
),

-- population standard deviation of the last 20 closes from exact numeric sums:
-- sqrt((Σx² − (Σx)²/n) / n), no cancellation in float arithmetic
windowed as (
    select
        *,
        {{ trailing_mean('sum_close_exact', 20) }} as sma_20,
        {{ trailing_mean('sum_close_exact', 50) }} as sma_50,
        {{ trailing_mean('sum_close_exact', 200) }} as sma_200,
        case when row_num >= 20 then sqrt(greatest((
            (sum_close_sq_exact - coalesce(lag(sum_close_sq_exact, 20) over by_symbol, 0))
            - (sum_close_exact - coalesce(lag(sum_close_exact, 20) over by_symbol, 0)) ^ 2 / 20
        ) / 20, 0))::float8 end as stddev_20
    from smoothed
    window by_symbol as (partition by symbol order by trade_date)
),

with_macd as (
    select
        *,
        ema_12 - ema_26 as macd
    from windowed
),

macd_stats as (
    select
        *,
        {{ running_stats('macd') }}
    from with_macd
    window running as (partition by symbol order by trade_date rows between unbounded preceding and current row)
),

with_signal as (
    select
        *,
        {{ ema('macd', 9, 'seed_macd_signal') }} as macd_signal
    from macd_stats
    window running as (partition by symbol order by trade_date rows between unbounded preceding and current row)
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
        sma_20,
        sma_50,
        sma_200,
        ema_12,
        ema_26,
        case
            when avg_gain_14 + avg_loss_14 > 0 then 100 * avg_gain_14 / (avg_gain_14 + avg_loss_14)
        end as rsi_14,
        macd,
        macd_signal,
        macd - macd_signal as macd_hist,
        sma_20 + 2 * stddev_20 as bb_upper,
        sma_20 as bb_middle,
        sma_20 - 2 * stddev_20 as bb_lower,
        atr_14,
        obv,
        avg_gain_14,
        avg_loss_14,
        ingested_at as source_ingested_at
    from with_signal
    where is_new
)

select * from final
