{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'hour'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=false,
        indexes=[
            {'columns': ['symbol', 'hour'], 'unique': True},
            {'columns': ['hour']},
        ],
    )
}}

{#-
  Hourly bars from the minute quotes, in the exchange's hours: open = the hour's first
  polled price, close = its last, high/low = the highest/lowest polled price, volume =
  the session's cumulative volume at the hour's last quote less that of the day's earlier
  hours (the day's first bar carries the session's volume so far).

  Two sources, one result: on TimescaleDB the continuous aggregate raw.quotes_hourly
  (migration 0008) keeps each hour's first/last/high/low, cumulative volume and count up to
  date by itself, and is read instead of the minutes; on plain PostgreSQL the same
  aggregates are computed here. The volume's difference is a window, which a continuous
  aggregate cannot hold, so it is taken here on both paths.

  Incremental: a run recomputes every (symbol, exchange day) with a quote stored or changed
  since the newest one it has seen, less a safety lag (late commits; on TimescaleDB also
  the aggregate's 30-minute refresh) — whole days, because each hour's volume depends on
  the hours before it that day. The result equals a build from scratch over the stored
  minutes. Never a full refresh (full_refresh=false): the minutes are kept 3 months, the
  hourly bars 12 (STOCKMIND_RETENTION_*), so a rebuild would lose the hours whose minutes
  are gone. To rebuild on purpose, drop the table. maintain_warehouse deletes the expired hours.
-#}

-- depends_on: {{ source('raw', 'quotes_hourly') }}
{%- set tz = exchange_timezone() %}
{%- set from_aggregate = relation_exists('raw', 'quotes_hourly') %}
{%- if from_aggregate %}
{%- set rows, time_column, stored_column = 'aggregated', 'hour', 'source_ingested_at' %}
{%- else %}
{%- set rows, time_column, stored_column = 'minutes', 'ts', 'ingested_at' %}
{%- endif %}

with minutes as (
    select * from {{ ref('stg_quotes_minute') }}
),

{% if from_aggregate -%}
aggregated as (
    select
        symbol,
        hour,
        {{ exchange_date('hour') }} as trade_date,
        open,
        high,
        low,
        close,
        day_volume,
        quotes,
        source_ingested_at
    from {{ source('raw', 'quotes_hourly') }}
),

{% endif -%}
{% if is_incremental() -%}
watermark as (
    select
        coalesce(max(source_ingested_at), '-infinity'::timestamptz)
        - interval '{{ var("hourly_watermark_lag", "1 hour") }}' as stored_after
    from {{ this }}
),

changed_days as (
    select distinct symbol, trade_date
    from {{ rows }}
    where {{ stored_column }} > (select stored_after from watermark)
),

selected as (
    select {{ rows }}.*
    from {{ rows }}
    inner join changed_days using (symbol, trade_date)
    -- a bound on time as well, so only the partitions (chunks) of those days are read
    where {{ rows }}.{{ time_column }}
        >= (select min(trade_date) from changed_days)::timestamp at time zone '{{ tz }}'
),

{% else -%}
selected as (
    select * from {{ rows }}
),

{% endif -%}
hours as (
    {%- if from_aggregate %}
    select * from selected
    {%- else %}
    select
        symbol,
        hour,
        trade_date,
        (array_agg(price order by ts))[1] as open,
        max(price) as high,
        min(price) as low,
        (array_agg(price order by ts desc))[1] as close,
        max(day_volume) as day_volume,
        count(*) as quotes,
        max(ingested_at) as source_ingested_at
    from selected
    group by symbol, hour, trade_date
    {%- endif %}
),

final as (
    select
        symbol,
        hour,
        trade_date,
        open,
        high,
        low,
        close,
        -- null when the source gave no volume; 0 if the cumulative volume went backwards
        day_volume - least(coalesce(max(day_volume) over earlier_hours, 0), day_volume) as volume,
        day_volume,
        quotes,
        source_ingested_at
    from hours
    window earlier_hours as (
        partition by symbol, trade_date order by hour
        rows between unbounded preceding and 1 preceding
    )
)

select * from final
