{#- Drops the relations the project no longer builds (the var `retired_relations`, each
    'schema.name'), so a renamed or removed model does not linger in an existing warehouse
    with stale data. Run in on-run-start. The kind of each relation is read from pg_class
    when the hook runs (a model can change from table to view), and it is dropped with its
    dependants, as dbt drops a relation it replaces. A name that is still a model of the
    project is an error, not a drop. -#}
{% macro drop_retired_relations() %}
{%- set retired = var('retired_relations', []) -%}
{%- if retired and execute -%}
{%- set built = [] -%}
{%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') -%}
    {%- do built.append((node.schema ~ '.' ~ node.alias) | lower) -%}
{%- endfor -%}
{%- for name in retired -%}
    {%- if name.split('.') | length != 2 -%}
        {{ exceptions.raise_compiler_error("retired_relations: '" ~ name ~ "' is not schema.name") }}
    {%- endif -%}
    {%- if (name | lower) in built -%}
        {{ exceptions.raise_compiler_error("retired_relations: '" ~ name ~ "' is still built by a model") }}
    {%- endif -%}
{%- endfor %}
do $drop_retired$
declare
    retired record;
begin
    for retired in
        select namespace.nspname as schema_name, class.relname as relation_name,
            case class.relkind
                when 'v' then 'view'
                when 'm' then 'materialized view'
                when 'f' then 'foreign table'
                else 'table'
            end as kind
        from pg_class as class
        inner join pg_namespace as namespace on namespace.oid = class.relnamespace
        where class.relkind in ('r', 'p', 'v', 'm', 'f')
            and (namespace.nspname, class.relname) in (
                {%- for name in retired %}
                ('{{ name.split('.')[0] | lower | replace("'", "''") }}', '{{ name.split('.')[1] | lower | replace("'", "''") }}'){{ ',' if not loop.last }}
                {%- endfor %}
            )
    loop
        execute format('drop %s if exists %I.%I cascade', retired.kind, retired.schema_name, retired.relation_name);
        raise notice 'dropped retired %: %.%', retired.kind, retired.schema_name, retired.relation_name;
    end loop;
end
$drop_retired$;
{%- endif %}
{% endmacro %}
