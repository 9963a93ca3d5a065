{#-
  What a generic data test reads of its model (dbt's own macro, overridden): the test's
  `where` config as dbt applies it, and, in an incremental `dbt build`, only the rows the
  build changed for models that declare `meta: {test_changed_rows: <date column>}`.

  Why: the big incremental marts (fct_indicators_daily, fct_scanner_daily/weekly) hold
  millions of rows; a daily build rewrites one day of them, yet each of their ~30 tests
  scanned the whole table — about 100 s of a 10,000-symbol build that had nothing new.
  Such a build now tests what it wrote: the rows from each symbol's earliest changed date
  on, read from the model's own stream in ops.change_log (logged in the build's
  transaction, pruned when the run ends; macros/change_window.sql), through the model's
  date index. Nothing changed: nothing to read.

  Every row is still tested by `dbt test` (any selection), by a full refresh, and by any
  build given `--vars '{test_all_rows: true}'`; uniqueness is also enforced by the
  models' unique indexes, which a scoped test cannot see past.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = changed_rows_condition(relation) -%}
    {%- if scope -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' as scoped where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The condition limiting a test to the rows this build changed, or '' to test all. -#}
{% macro changed_rows_condition(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('test_all_rows', false) -%}
        {{- return('') -}}
    {%- endif -%}
    {#- looked up, not source(): a source() here would make every test depend on the log,
        and `dbt build --select +model` would then pick up every test of the project -#}
    {%- set log_node = graph.sources['source.stockmind.ops.change_log'] -%}
    {%- set log = api.Relation.create(database=log_node.database, schema=log_node.schema, identifier=log_node.identifier) -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- set column = node.config.meta.get('test_changed_rows') if node else none -%}
    {%- if not column -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set stream = relation.schema ~ '.' ~ relation.identifier -%}
    {%- set condition -%}
    scoped.{{ column }} >= (
            select min(log.first_date) from {{ log }} as log where log.stream = '{{ stream }}'
        )
        and exists (
            select 1 from {{ log }} as log
            where log.stream = '{{ stream }}'
                and (log.symbol is null or log.symbol = scoped.symbol)
                and log.first_date <= scoped.{{ column }}
        )
    {%- endset -%}
    {{- return(condition) -}}
{%- endmacro %}
