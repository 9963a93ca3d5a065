-- Daily bars on split/dividend-adjusted prices: open/high/low are scaled by the same
-- factor (adj_close / close) as the close, so a split is a continuous series, not a crash.
with source as (
    select * from {{ source('raw', 'prices_daily') }}
),

final as (
    select
        symbol,
        trade_date,
        adj_close / nullif(close, 0) as adj_factor,
        open * adj_close / nullif(close, 0) as open,
        high * adj_close / nullif(close, 0) as high,
        low * adj_close / nullif(close, 0) as low,
        adj_close as close,
        close as close_unadjusted,
        volume,
        source,
        ingested_at
    from source
)

select * from final
