{#- The symbols an incremental build of fct_indicators_daily recomputes (`stored`: the mart,
    `prices`: the adjusted daily bars): each symbol whose bars were inserted, changed or
    deleted since the last build (ops.change_log, stream raw.prices_daily; a NULL symbol
    there means every symbol), with
      first_changed  its earliest such trade date, and
      from_date      where its recomputation starts: first_changed when the stored row
                     before it is warmed up (indicator_min_anchor_rows) and can seed the
                     continuation, else -infinity (the symbol is recomputed whole).
    The pre-hook (delete_recomputed_indicators) and the model read the same rows: the
    pinned snapshot and the watermark do not move within the build, and deleting a cold
    symbol's rows keeps it cold. -#}
{% macro indicator_changes(stored, prices) -%}
with logged as (
        {{ change_window(source('raw', 'prices_daily')) }}
    ),

    every_symbol as (
        select logged.symbol, logged.first_date from logged where logged.symbol is not null
        union all
        select everyone.symbol, (select min(logged.first_date) from logged where logged.symbol is null)
        from (
            select distinct symbol from {{ prices }}
            union
            select distinct symbol from {{ stored }}
        ) as everyone
        where exists (select 1 from logged where logged.symbol is null)
    ),

    per_symbol as (
        select symbol, min(first_date) as first_changed from every_symbol group by symbol
    )

    select
        per_symbol.symbol,
        per_symbol.first_changed,
        case
            when (
                select anchor.row_num from {{ stored }} as anchor
                where anchor.symbol = per_symbol.symbol and anchor.trade_date < per_symbol.first_changed
                order by anchor.trade_date desc
                limit 1
            ) >= {{ var('indicator_min_anchor_rows') }} then per_symbol.first_changed
            else '-infinity'::date
        end as from_date
    from per_symbol
{%- endmacro %}

{#- Pre-hook of fct_indicators_daily's incremental builds: the rows it is about to
    recompute go first — each changed symbol's from from_date — so bars deleted at the
    source leave the mart too, and the model appends. -#}
{% macro delete_recomputed_indicators() -%}
{%- if is_incremental() -%}
delete from {{ this }} as stored
using ({{ indicator_changes(this, ref('stg_prices_daily')) }}) as changed
where stored.symbol = changed.symbol and stored.trade_date >= changed.from_date
{%- endif -%}
{%- endmacro %}
