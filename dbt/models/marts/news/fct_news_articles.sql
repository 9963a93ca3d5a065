{{ config(materialized='view') }}

-- One row per article and symbol it is about, with the article's latest sentiment score
-- (null until scored). A view on the sources, like the forecast marts: the news DAG
-- writes at any time and the API sees it at once, without a dbt build.
with articles as (
    select * from {{ source('raw', 'news_articles') }}
),

article_symbols as (
    select * from {{ source('raw', 'news_article_symbols') }}
),

final as (
    select
        s.symbol,
        a.article_id,
        a.title,
        a.summary,
        a.publisher,
        a.url,
        a.source,
        a.published_at,
        sc.label as sentiment_label,
        sc.score as sentiment_score,
        sc.analysis,
        sc.scorer,
        sc.scoring_model,
        sc.scored_at
    from article_symbols as s
    inner join articles as a on a.article_id = s.article_id
    left join lateral ({{ latest_article_score('a.article_id') }}) as sc on true
)

select * from final
