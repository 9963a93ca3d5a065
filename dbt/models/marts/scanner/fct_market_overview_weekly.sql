{{
    config(
        pre_hook=[
            "{{ change_window_start() }}",
            "{{ delete_changed_periods(ref('fct_scanner_weekly')) }}",
        ],
        post_hook=["{{ change_window_end(ref('fct_scanner_weekly')) }}"],
        indexes=[{'columns': ['period_start'], 'unique': True}],
    )
}}

{{ market_overview('fct_scanner_weekly') }}
