{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "set work_mem = '256MB'",
            "{{ change_window_start() }}",
            "{{ delete_recomputed_indicators() }}",
        ],
        post_hook=[
            "{{ log_changes(change_window(source('raw', 'prices_daily'))) }}",
            "{{ change_window_end(source('raw', 'prices_daily')) }}",
        ],
        indexes=[
            {'columns': ['symbol', 'trade_date'], 'unique': True},
            {'columns': ['symbol', 'row_num'], 'unique': True},
            {'columns': ['trade_date']},
        ],
    )
}}

{#-
  Technical indicators, one row per symbol and trading day (StockCharts / TA-Lib
  definitions, on adjusted prices).

  One code path for full and incremental runs.  A run computes, per symbol, the bars from
  a `from_date` on, starting from a *base* state: on a full refresh (or for a symbol
  without a warmed-up stored row) the base is empty and from_date is -infinity; on an
  incremental run from_date is the symbol's earliest bar inserted, changed or deleted
  since the last build — exactly, from ops.change_log (macros change_window.sql,
  indicator_changes.sql) — and the base is the stored row just before it: its row
  number, close, exact running sums and every smoothed value.  Trailing windows (SMA
  20/50/200, Bollinger) read the running sums n bars back from the stored rows where
  they lie before from_date (index probes on (symbol, row_num)).  The pre-hook
  deletes the stored rows from from_date on (so bars deleted at the source leave the mart
  too) and the run appends their recomputation; unchanged symbols are not read at all.
  The post-hook logs what changed (stream marts.fct_indicators_daily) for the scanners.
  The result equals a full refresh.
-#}

{% set state = ['ema_12', 'ema_26', 'macd_signal', 'avg_gain_14', 'avg_loss_14', 'atr_14', 'obv'] %}
{% set warm = 'anchors.row_num >= ' ~ var('indicator_min_anchor_rows') %}
{% set stored = this if is_incremental() else none %}

with prices as (
    select * from {{ ref('stg_prices_daily') }}
),

{% if is_incremental() %}
changed as (
    {{ indicator_changes(this, ref('stg_prices_daily')) }}
),

-- the stored row just before each symbol's from_date (none for a symbol recomputed whole)
anchors as (
    select anchor.*
    from changed
    cross join lateral (
        select * from {{ this }} as stored
        where stored.symbol = changed.symbol and stored.trade_date < changed.from_date
        order by stored.trade_date desc
        limit 1
    ) as anchor
),

plan as (
    select
        changed.symbol,
        case when {{ warm }} then changed.from_date else '-infinity'::date end as from_date,
        case when {{ warm }} then anchors.row_num else 0 end as base_row_num,
        case when {{ warm }} then anchors.close end as base_close,
        case when {{ warm }} then anchors.sum_close_exact else 0 end as base_sum,
        case when {{ warm }} then anchors.sum_close_sq_exact else 0 end as base_sum_sq,
        {%- for col in state %}
        case when {{ warm }} then anchors.{{ col }} end as seed_{{ col }}{{ ',' if not loop.last }}
        {%- endfor %}
    from changed
    left join anchors on anchors.symbol = changed.symbol
),
{% else %}
plan as (
    select distinct
        symbol,
        '-infinity'::date as from_date,
        0::bigint as base_row_num,
        null::float8 as base_close,
        0::numeric as base_sum,
        0::numeric as base_sum_sq,
        {%- for col in state %}
        null::float8 as seed_{{ col }}{{ ',' if not loop.last }}
        {%- endfor %}
    from prices
),

{% endif %}

bars as (
    select
        prices.symbol,
        prices.trade_date,
        prices.open,
        prices.high,
        prices.low,
        prices.close,
        prices.volume,
        prices.ingested_at,
        plan.base_row_num + row_number() over by_symbol as row_num,
        coalesce(lag(prices.close) over by_symbol, plan.base_close) as prev_close,
        plan.base_sum,
        plan.base_sum_sq,
        {%- for col in state %}
        plan.seed_{{ col }},
        {%- endfor %}
        true as is_new
    {%- if is_incremental() %}
    -- each changed symbol's bars from its from_date: an index range scan a symbol, not a
    -- scan of every bar (offset 0 keeps the planner from flattening it into a hash join)
    from plan
    cross join lateral (
        select * from prices where prices.symbol = plan.symbol and prices.trade_date >= plan.from_date
        offset 0
    ) as prices
    {%- else %}
    from prices
    inner join plan on plan.symbol = prices.symbol and prices.trade_date >= plan.from_date
    {%- endif %}
    window by_symbol as (partition by prices.symbol order by prices.trade_date)
),

inputs as (
    select
        *,
        {{ bar_inputs() }}
    from bars
),

running_stats as (
    select
        *,
        {{ running_stats('close') }},
        {{ running_stats('gain') }},
        {{ running_stats('loss') }},
        {{ running_stats('true_range') }},
        base_sum + sum(close::numeric) over running as sum_close_exact,
        base_sum_sq + sum(close::numeric * close::numeric) over running as sum_close_sq_exact
    from inputs
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
            when row_num > 1 then coalesce(seed_obv, 0) + sum(obv_delta) over running
        end as obv
    from running_stats
    window running as (partition by symbol order by trade_date rows between unbounded preceding and current row)
),

-- trailing means from exact sums, the sums n bars back read from the stored rows where
-- they lie before the recomputed ones; population standard deviation as
-- sqrt((Σx² − (Σx)²/n) / n): no float cancellation
windowed as (
    select
        *,
        {{ trailing_mean('sum_close_exact', 20, stored, 'smoothed') }} as sma_20,
        {{ trailing_mean('sum_close_exact', 50, stored, 'smoothed') }} as sma_50,
        {{ trailing_mean('sum_close_exact', 200, stored, 'smoothed') }} as sma_200,
        case when row_num >= 20 then sqrt(greatest((
            (sum_close_sq_exact - {{ running_sum_back('sum_close_sq_exact', 20, stored, 'smoothed') }})
            - (sum_close_exact - {{ running_sum_back('sum_close_exact', 20, stored, 'smoothed') }}) ^ 2 / 20
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
        sum_close_exact,
        sum_close_sq_exact,
        ingested_at as source_ingested_at
    from with_signal
)

select * from final
