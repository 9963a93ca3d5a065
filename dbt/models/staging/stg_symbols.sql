with source as (
    select * from {{ source('raw', 'symbols') }}
),

final as (
    select
        symbol,
        coalesce(name, symbol) as name,
        sector,
        industry,
        exchange,
        currency,
        market_cap,
        is_active,
        updated_at
    from source
)

select * from final
