{{ config(indexes=[{'columns': ['period_start'], 'unique': True}]) }}

{{ market_overview('fct_scanner_weekly') }}
