{{ config(indexes=[{'columns': ['symbol'], 'unique': True}]) }}

-- One row per symbol: the company profile the API lists and searches (name falls back to
-- the symbol), as loaded into raw.symbols.
with symbols as (
    select * from {{ ref('stg_symbols') }}
),

final as (
    select
        symbol,
        name,
        sector,
        industry,
        exchange,
        currency,
        market_cap,
        is_active,
        updated_at
    from symbols
)

select * from final
