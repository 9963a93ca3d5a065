{#- Generic test: no two rows share the same values in `columns` (a composite key), with
    SQL's UNIQUE semantics: a row with a NULL in any of them is no key (NULL is not equal
    to NULL) — as a unique index sees it, so the index below proves exactly this test.

    A table with a valid unique index on exactly these columns cannot hold a duplicate:
    PostgreSQL refuses it on write. The test then checks that the index is there (from
    the catalog) instead of grouping every row — on a 2.5 M-row mart that grouping spilled
    to disk for 4–6 s. Drop the index and the test groups the rows again. A test scoped to
    some rows (a `where`, or a build's changed rows) groups those. -#}
{% test unique_combination(model, columns) %}
{%- set sorted_columns = columns | sort -%}
select {{ columns | join(', ') }}, count(*) as copies
from {{ model }}
where {% for column in columns %}{{ column }} is not null and {% endfor %}true
{%- if model is not string %}
    and not exists (
    select 1
    from pg_index as ix
    where ix.indrelid = to_regclass('{{ model.schema }}.{{ model.identifier }}')
        and ix.indisunique and ix.indisvalid and ix.indpred is null and ix.indexprs is null
        and ix.indnkeyatts = {{ columns | length }}
        and (
            select array_agg(att.attname::text order by att.attname::text collate "C")
            from pg_attribute as att
            where att.attrelid = ix.indrelid and att.attnum = any(ix.indkey)
        ) = array[{% for column in sorted_columns %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]
)
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
