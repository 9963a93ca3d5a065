{#- Generic test: a warm-up column is NULL exactly before row `n` of each symbol and set from
    there on (where the inputs allow). `allow_null_after` lets undefined values (e.g. RSI of
    a flat series) stay NULL after warm-up. -#}
{% test null_until_row(model, column_name, n, allow_null_after=false) %}
select symbol, trade_date, row_num, {{ column_name }}
from {{ model }}
where (row_num < {{ n }} and {{ column_name }} is not null)
{%- if not allow_null_after %}
   or (row_num >= {{ n }} and {{ column_name }} is null)
{%- endif %}
{% endtest %}
