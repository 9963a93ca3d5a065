{{
    config(
        pre_hook=[
            "{{ change_window_start() }}",
            "{{ delete_changed_periods(ref('fct_scanner_daily')) }}",
        ],
        post_hook=["{{ change_window_end(ref('fct_scanner_daily')) }}"],
        indexes=[{'columns': ['period_start', 'list', 'rank'], 'unique': True}],
    )
}}

{{ movers('fct_scanner_daily') }}
