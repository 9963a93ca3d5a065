{#- The exchange's clock. Hourly bars and their trade dates follow the exchange's hours, not
    UTC's, and read the time zone the Python side reads (STOCKMIND_EXCHANGE_TZ), so dbt's
    bars, TimescaleDB's continuous aggregate and the maintenance horizons agree. -#}
{% macro exchange_timezone() -%}
{{ return(env_var('STOCKMIND_EXCHANGE_TZ', '') or 'America/New_York') }}
{%- endmacro %}

{#- The start of the exchange-local hour holding `ts` (timestamptz), as a timestamptz: the
    hour repeated when clocks fall back stays two hours, not one of 120 minutes. -#}
{% macro exchange_hour(ts) -%}
date_trunc('hour', {{ ts }}, '{{ exchange_timezone() }}')
{%- endmacro %}

{#- The exchange-local calendar date of `ts` (timestamptz). -#}
{% macro exchange_date(ts) -%}
({{ ts }} at time zone '{{ exchange_timezone() }}')::date
{%- endmacro %}

{#- Whether `schema.name` exists in the warehouse (false while parsing): a model can read a
    relation that only some servers have, such as TimescaleDB's continuous aggregates. -#}
{% macro relation_exists(schema, name) -%}
{%- if not execute -%}
{{ return(false) }}
{%- endif -%}
{%- set found = run_query("select to_regclass('" ~ schema ~ "." ~ name ~ "') is not null") -%}
{{ return(found.columns[0].values()[0]) }}
{%- endmacro %}
