{#- Weekly bars from the daily bars in `daily` (a CTE name; weeks start on Monday): first
    open, highest high, lowest low, last close, summed volume, dated by the week's last
    trading day. A filter on symbol or week_start passes through (the windows are per
    symbol and week), so a test of the changed weeks does not aggregate every week. -#}
{% macro weekly_bars(daily) -%}
select
        symbol,
        week_start,
        max(trade_date) as trade_date,
        max(open) filter (where first_in_week = 1) as open,
        max(high) as high,
        min(low) as low,
        max(close) filter (where last_in_week = 1) as close,
        sum(volume) as volume,
        count(*) as trading_days
    from (
        select
            *,
            row_number() over (partition by symbol, week_start order by trade_date) as first_in_week,
            row_number() over (partition by symbol, week_start order by trade_date desc) as last_in_week
        from (select *, date_trunc('week', trade_date)::date as week_start from {{ daily }}) as dated
    ) as tagged
    group by symbol, week_start
{%- endmacro %}
