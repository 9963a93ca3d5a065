{#- The columns of split/dividend-adjusted daily bars from rows shaped like
    raw.prices_daily (`relation`, a CTE name): open/high/low are scaled by the same factor
    (adj_close / close) as the close, so a split is a continuous series, not a crash.
    Staging and the price mart both select through it: one definition of "adjusted". -#}
{% macro adjusted_prices(relation) -%}
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
    from {{ relation }}
{%- endmacro %}
