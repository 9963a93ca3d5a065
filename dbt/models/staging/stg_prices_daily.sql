-- Daily bars on split/dividend-adjusted prices (macro adjusted_prices): open/high/low are
-- scaled by the same factor (adj_close / close) as the close, so a split is a continuous
-- series, not a crash.
with source as (
    select * from {{ source('raw', 'prices_daily') }}
),

final as (
    {{ adjusted_prices('source') }}
)

select * from final
