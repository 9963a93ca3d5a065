{% macro latest_article_scores() %}
    -- each article's latest score (a rescoring, or a newer model, supersedes older ones);
    -- the marts read the sources through this macro so that no view of theirs depends on
    -- another view dbt may rebuild (a rebuild drops its dependents with CASCADE)
    select distinct on (article_id)
        article_id,
        scorer,
        model as scoring_model,
        label,
        score,
        analysis,
        scored_at
    from {{ source('ml', 'sentiment_scores') }}
    order by article_id, scored_at desc, scorer, model
{% endmacro %}
