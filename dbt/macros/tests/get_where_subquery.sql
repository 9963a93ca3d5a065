{#-
  What a generic data test reads of its model (dbt's own macro, overridden): the test's
  `where` config as dbt applies it, and, in an incremental `dbt build`, only the rows the
  build changed for models that declare `meta: {test_changed_rows: <date column>}`.

  Why: the big incremental marts (fct_indicators_daily, fct_scanner_daily/weekly) hold
  millions of rows; a daily build rewrites one day of them, yet each of their ~30 tests
  scanned the whole table — about 100 s of a 10,000-symbol build that had nothing new.
  Such a build now tests what it wrote: the rows from each symbol's earliest changed date
  on, read from the model's own stream in ops.change_log (logged in the build's
  transaction, kept until a complete build has passed; macros/change_window.sql), through the model's
  date index. Nothing changed: nothing to read.

  The views over the prices (stg_prices_daily, fct_prices_daily, int_weekly_bars,
  fct_prices_weekly) test the bars loaded since the log was last pruned, read from
  raw.prices_daily's stream.

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

{#- The condition limiting a test to the rows this build changed, or '' to test all.
    The model's meta `test_changed_rows` names its date column, or is a mapping:
    column, stream (whose log says what changed: the model's own by default; a view over
    the prices reads raw.prices_daily's) and period ('week': a model keyed on the week's
    start, from the week of the first changed date). -#}
{% macro changed_rows_condition(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('test_all_rows', false) -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- set scope = node.config.meta.get('test_changed_rows') if node else none -%}
    {%- if not scope -%}
        {{- return('') -}}
    {%- endif -%}
    {%- if scope is string -%}
        {%- set scope = {'column': scope} -%}
    {%- endif -%}
    {#- looked up, not source(): a source() here would make every test depend on the log,
        and `dbt build --select +model` would then pick up every test of the project -#}
    {%- set log_node = graph.sources['source.stockmind.ops.change_log'] -%}
    {%- set log = api.Relation.create(database=log_node.database, schema=log_node.schema, identifier=log_node.identifier) -%}
    {%- set stream = scope.get('stream', relation.schema ~ '.' ~ relation.identifier) -%}
    {%- set column = 'scoped.' ~ scope['column'] -%}
    {%- set first = "date_trunc('" ~ scope['period'] ~ "', log.first_date)::date" if scope.get('period') else 'log.first_date' -%}
    {#- where the changes start, read now (the test runs after its model committed) and
        written into the test as dates: the planner then sees how few rows they reach and
        uses the date index or partition, where a subquery's unknown value made it scan -#}
    {%- set bounds = run_query(
        "select min(" ~ first ~ ")::text, min(" ~ first ~ ") filter (where log.symbol is null)::text"
        ~ " from " ~ log ~ " as log where log.stream = '" ~ stream ~ "'"
    ).rows[0] -%}
    {%- if bounds[0] is none -%}
        {{- return('false') -}}
    {%- endif -%}
    {%- set condition -%}
    {{ column }} >= '{{ bounds[0] }}'::date
        {%- if bounds[1] is not none %} and ({{ column }} >= '{{ bounds[1] }}'::date or{% else %} and ({% endif %} exists (
            select 1 from {{ log }} as log
            where log.stream = '{{ stream }}'
                and log.symbol = scoped.symbol
                and {{ first }} <= {{ column }}
        ))
    {%- endset -%}
    {{- return(condition) -}}
{%- endmacro %}
