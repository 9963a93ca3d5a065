-- Minute quotes on the exchange's clock: each poll's last price and the session's
-- cumulative volume so far, with the exchange-local hour and trade date they fall in
-- (macros exchange_hour, exchange_date), for the hourly bars.
with source as (
    select * from {{ source('raw', 'quotes_minute') }}
),

final as (
    select
        symbol,
        ts,
        {{ exchange_hour('ts') }} as hour,
        {{ exchange_date('ts') }} as trade_date,
        price,
        volume as day_volume,
        source,
        ingested_at
    from source
)

select * from final
