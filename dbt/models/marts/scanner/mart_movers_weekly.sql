{{ movers('fct_scanner_weekly') }}
