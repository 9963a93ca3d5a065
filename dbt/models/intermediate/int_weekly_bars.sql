-- Weekly bars from daily bars (weeks start on Monday; macro weekly_bars): first open,
-- highest high, lowest low, last close, summed volume; dated by the week's last trading
-- day.
with daily as (
    select * from {{ ref('stg_prices_daily') }}
),

final as (
    {{ weekly_bars('daily') }}
)

select * from final
