{% macro latest_article_score(article_id) %}
    -- the article's latest score (a rescoring, or a newer model, supersedes older ones),
    -- for a lateral join: one index probe per article (ml.sentiment_scores'
    -- sentiment_scores_latest), so a query about one symbol reads that symbol's articles'
    -- scores only. The marts read the sources through this macro, so that no view of
    -- theirs depends on another view dbt may rebuild (a rebuild drops its dependents).
    select
        s.scorer,
        s.model as scoring_model,
        s.label,
        s.score,
        s.analysis,
        s.scored_at
    from {{ source('ml', 'sentiment_scores') }} as s
    where s.article_id = {{ article_id }}
    order by s.scored_at desc, s.scorer, s.model
    limit 1
{% endmacro %}
