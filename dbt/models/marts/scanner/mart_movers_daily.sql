{{ movers('fct_scanner_daily') }}
