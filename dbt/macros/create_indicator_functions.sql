{#-
  stockmind.smoothed(value, alpha, seed, prior) — exponential smoothing as an aggregate
  usable as a window function: EMA (alpha = 2/(n+1)) and Wilder's RSI/ATR smoothing
  (alpha = 1/n).  Its first input row returns `prior + alpha * (value - prior)` when a
  stored previous value `prior` is given (an incremental run continuing a series), and
  otherwise `seed` — the caller passes the SMA of the first n values there and filters
  the rows so the aggregate starts on the n-th value (the StockCharts/TA-Lib seeding).
  After that: state + alpha * (value - state).  The state is one float8, which keeps the
  plpgsql step cheap (an array state was 5× slower).
  Version 2 — change the body, bump the version, and full-refresh the indicator marts.
-#}
{% macro create_indicator_functions() %}
create schema if not exists stockmind;

drop aggregate if exists stockmind.smoothed(float8, float8, integer, float8, bigint);
drop function if exists stockmind.smoothed_step(float8[], float8, float8, integer, float8, bigint);
drop function if exists stockmind.smoothed_final(float8[]);

create or replace function stockmind.smoothed_step(
    state float8, value float8, alpha float8, seed float8, prior float8
) returns float8
language plpgsql immutable parallel safe as $fn$
begin
    if value is null then
        return state;
    elsif state is not null then
        return state + alpha * (value - state);
    elsif prior is not null then
        return prior + alpha * (value - prior);
    end if;
    return seed;
end
$fn$;

create or replace aggregate stockmind.smoothed(float8, float8, float8, float8) (
    sfunc = stockmind.smoothed_step,
    stype = float8
);

comment on aggregate stockmind.smoothed(float8, float8, float8, float8) is
    'stockmind v2: exponential smoothing seeded by the caller (EMA alpha=2/(n+1), Wilder alpha=1/n)';
{% endmacro %}
