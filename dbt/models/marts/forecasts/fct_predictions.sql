{{ config(materialized='view') }}

-- Each symbol's latest forecast (its most recent scoring: one row per horizon).
-- A view on the source, like the price marts: scoring writes ml.predictions at any time
-- and the API sees it at once, without waiting for a dbt build; and a view on a source is
-- never dropped by dbt's rebuild of another view.
with predictions as (
    select * from {{ source('ml', 'predictions') }}
),

latest as (
    select distinct on (symbol) symbol, as_of, model_name, model_version
    from predictions
    order by symbol, scored_at desc, as_of desc, model_version desc
),

final as (
    select
        p.symbol,
        p.as_of,
        p.model_name,
        p.model_version,
        p.alias,
        p.horizon_days,
        p.horizon_label,
        p.last_close,
        p.target_price,
        p.change_percent,
        p.price_low,
        p.price_high,
        p.predicted_return,
        p.return_low,
        p.return_high,
        p.trend,
        p.bullish_score,
        p.risk_level,
        p.scored_at
    from predictions as p
    inner join latest as l
        on p.symbol = l.symbol
        and p.as_of = l.as_of
        and p.model_name = l.model_name
        and p.model_version = l.model_version
)

select * from final
