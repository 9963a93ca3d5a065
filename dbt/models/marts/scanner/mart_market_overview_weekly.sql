{{ market_overview('fct_scanner_weekly') }}
