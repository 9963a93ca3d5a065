{{ config(materialized='view') }}

-- Daily bars, one row per symbol and trading day, on split/dividend-adjusted prices, with
-- the close as traded alongside.
-- A view, not a table (marts default to tables): no second copy of every bar; PostgreSQL
-- inlines it, so the API's read of a symbol and date range is an index scan on
-- raw.prices_daily's (symbol, trade_date) key.
-- It reads the source, not stg_prices_daily, through the same macro (adjusted_prices):
-- dbt rebuilds a view by dropping its predecessor with CASCADE, which would drop a view
-- built on it for the length of every build, and the API would lose its bars. Built on
-- the source, this view is only ever swapped atomically, in its own transaction.
with source as (
    select * from {{ source('raw', 'prices_daily') }}
),

adjusted as (
    {{ adjusted_prices('source') }}
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
    from adjusted
)

select * from final
