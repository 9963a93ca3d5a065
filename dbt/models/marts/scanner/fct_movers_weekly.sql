{{ config(indexes=[{'columns': ['period_start', 'list', 'rank'], 'unique': True}]) }}

{{ movers('fct_scanner_weekly') }}
