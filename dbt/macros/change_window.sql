{#-
  Exact change tracking for incremental models: what changed upstream since this model's
  last successful build, read from ops.change_log (one row per writing transaction and
  symbol: the stream written, the symbol — NULL for every symbol — and the earliest trade
  date changed, stamped with the writer's transaction id).

  A consuming model's transaction (dbt runs pre-hooks, the model and post-hooks in one):
    pre-hook   change_window_start()   serialise builds of this model, pin the snapshot
                                       pg_current_snapshot() in a transaction-local
                                       setting, and on a full build forget the watermark
    model      change_window(stream)   the log rows whose transaction is visible in the
                                       pinned snapshot and was not in the stored one
    post-hook  change_window_end(stream)  store the pinned snapshot as the watermark

  Every committed write is consumed by exactly one build: the first whose snapshot sees
  it, however late it commits (a load in flight during a build is not visible to its
  snapshot, so the next build takes it). A snapshot rather than a single transaction id
  (its xmin): a consumer need not wait for the oldest transaction in flight anywhere in
  the cluster to end before taking changes committed after it. No watermark (a first or
  full build, or one lost) reads as "everything changed" (a NULL symbol from
  -infinity). Consumed rows are pruned after each run (prune_change_log).
-#}

{#- The snapshot this transaction pinned (outside a build — dbt show — the current one). -#}
{% macro change_snapshot() -%}
coalesce(nullif(current_setting('stockmind.change_snapshot', true), '')::pg_snapshot, pg_current_snapshot())
{%- endmacro %}

{#- A relation's change-log stream: schema.name (raw.prices_daily, marts.fct_…). -#}
{% macro change_stream(relation) -%}
{{ relation.schema }}.{{ relation.identifier }}
{%- endmacro %}

{#- Pre-hook: one build of this model at a time, its snapshot pinned after the lock (so
    it sees what a concurrent build committed), the watermark forgotten on a full build.
    An incremental build reads a few rows through indexes: JIT compilation, triggered by
    cost estimates made for whole tables, would cost more than the query (~0.3 s). -#}
{% macro change_window_start() -%}
select pg_advisory_xact_lock(hashtext('stockmind.change_window'), hashtext('{{ model.name }}'));
select set_config('stockmind.change_snapshot', pg_current_snapshot()::text, true);
{%- if is_incremental() %}
set local jit = off;
{%- else %}
delete from {{ source('ops', 'change_watermarks') }} where consumer = '{{ model.name }}';
{%- endif %}
{%- endmacro %}

{#- This model's watermark: the snapshot its last build consumed up to. One from the
    future (a warehouse restored into another cluster, whose transaction ids restarted
    lower) is no watermark: everything is recomputed once. -#}
{% macro change_watermark() -%}
(
                select mark.consumed from {{ source('ops', 'change_watermarks') }} as mark
                where mark.consumer = '{{ model.name }}'
                    and pg_snapshot_xmax(mark.consumed) <= pg_snapshot_xmax({{ change_snapshot() }})
            )
{%- endmacro %}

{#- The changes of `stream` (a relation) this build consumes: symbol (NULL: every symbol)
    and the earliest changed date. -#}
{% macro change_window(stream) -%}
select changes.symbol, min(changes.first_date) as first_date
    from (
        select log.symbol, log.first_date
        from {{ source('ops', 'change_log') }} as log
        where log.stream = '{{ change_stream(stream) }}'
            and log.txid >= coalesce(pg_snapshot_xmin({{ change_watermark() }}), '0'::xid8)
            and log.txid < pg_snapshot_xmax({{ change_snapshot() }})
            and pg_visible_in_snapshot(log.txid, {{ change_snapshot() }})
            and not coalesce(pg_visible_in_snapshot(log.txid, {{ change_watermark() }}), false)
        union all
        select null, '-infinity'::date
        where {{ change_watermark() }} is null
    ) as changes
    group by changes.symbol
{%- endmacro %}

{#- The first period to recompute for the changes of `stream`: the earliest changed date
    (truncated to its week with truncate_to='week'); NULL when nothing changed. -#}
{% macro changed_periods_from(stream, truncate_to=none) -%}
{%- if truncate_to -%}
(select date_trunc('{{ truncate_to }}', min(window_.first_date))::date from ({{ change_window(stream) }}) as window_)
{%- else -%}
(select min(window_.first_date) from ({{ change_window(stream) }}) as window_)
{%- endif -%}
{%- endmacro %}

{#- Pre-hook of a model keyed on period_start that recomputes every period from the first
    changed one: those rows go (deleted bars included), the model appends their
    recomputation. -#}
{% macro delete_changed_periods(stream, truncate_to=none) -%}
{%- if is_incremental() -%}
delete from {{ this }} where period_start >= {{ changed_periods_from(stream, truncate_to) }}
{%- endif -%}
{%- endmacro %}

{#- Post-hook: this model's own changes, (symbol, first_date) rows from `rows_sql`, logged
    to its stream for the models downstream, in the build's transaction. -#}
{% macro log_changes(rows_sql) -%}
insert into {{ source('ops', 'change_log') }} (stream, symbol, first_date)
select '{{ change_stream(this) }}', changed.symbol, changed.first_date
from ({{ rows_sql }}) as changed (symbol, first_date)
where changed.first_date is not null
{%- endmacro %}

{#- Post-hook: the pinned snapshot becomes this model's watermark (never a fresh one: a
    transaction committed since the pin has not been consumed). -#}
{% macro change_window_end(stream) -%}
insert into {{ source('ops', 'change_watermarks') }} (consumer, stream, consumed, updated_at)
values ('{{ model.name }}', '{{ change_stream(stream) }}', {{ change_snapshot() }}, now())
on conflict (consumer) do update
    set stream = excluded.stream, consumed = excluded.consumed, updated_at = excluded.updated_at
{%- endmacro %}

{#- on-run-start: this run's start, as a snapshot (a row of ops.change_watermarks named
    run:<invocation id>, never a model's), so that the end of the run prunes only what
    had committed before it began. -#}
{% macro mark_run_start() %}
{%- if execute -%}
insert into {{ source('ops', 'change_watermarks') }} (consumer, stream, consumed, updated_at)
values ('run:{{ invocation_id }}', '', pg_current_snapshot(), now())
on conflict (consumer) do nothing
{%- endif %}
{% endmacro %}

{#- on-run-end: forget watermarks of models the project no longer has, and delete the log
    rows every consumer of their stream has consumed — but only after a complete
    (unselected) `dbt build` in which nothing failed, and only rows committed before the
    run began. The log rows are also what a build's tests read
    (macros/tests/get_where_subquery.sql): the views over the prices are tested on
    raw.prices_daily's rows, which fct_indicators_daily consumes whether or not those
    tests passed. So a failed build, a `dbt run`, a selected build, and a load that
    committed while the run was going keep their rows for the next complete build to
    test. A stream no model has consumed yet keeps its rows until one does (a consumer
    without a watermark recomputes everything anyway). One pruner at a time; run markers
    left by a killed run go after a day. -#}
{% macro prune_change_log(results) %}
{%- if execute -%}
{%- set models = [] -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
    {%- do models.append("'" ~ node.name ~ "'") -%}
{%- endfor %}
{%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped']) | list -%}
{%- set complete = flags.WHICH == 'build' and not invocation_args_dict.get('select') and not invocation_args_dict.get('exclude') and not failed -%}
do $prune$
begin
    if pg_try_advisory_xact_lock(hashtext('stockmind.change_window'), hashtext('prune')) then
        delete from ops.change_watermarks
        where consumer <> all (array[{{ models | join(', ') }}]::text[])
            and consumer not like 'run:%';
        {%- if complete %}
        delete from ops.change_log as log
        where log.txid < (
            select min(pg_snapshot_xmin(mark.consumed))
            from ops.change_watermarks as mark
            where mark.stream = log.stream
        )
        and pg_visible_in_snapshot(log.txid, (
            select mark.consumed from ops.change_watermarks as mark
            where mark.consumer = 'run:{{ invocation_id }}'
        ));
        {%- endif %}
    end if;
    delete from ops.change_watermarks
    where consumer = 'run:{{ invocation_id }}'
        or (consumer like 'run:%' and updated_at < now() - interval '1 day');
end
$prune$;
{%- endif %}
{% endmacro %}
