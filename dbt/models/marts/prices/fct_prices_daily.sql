{{ config(materialized='view') }}

-- Daily bars, one row per symbol and trading day, on split/dividend-adjusted prices (as
-- stg_prices_daily), with the close as traded alongside.
-- A view, not a table (marts default to tables): no second copy of every bar. PostgreSQL
-- inlines the view, so the API's read of a symbol and date range is an index scan on
-- raw.prices_daily's (symbol, trade_date) key, as fast as reading the staging view.
with prices as (
    select * from {{ ref('stg_prices_daily') }}
),

final as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        close_unadjusted,
        volume
    from prices
)

select * from final
