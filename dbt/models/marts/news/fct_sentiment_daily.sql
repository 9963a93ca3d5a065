{{ config(materialized='view') }}

-- Per symbol and day (New York date of publication): the articles of the trailing 7 days
-- (that day and the 6 before), their counts by label, the average score and the overall
-- label. Every calendar day from a symbol's first scored article while its 7-day window
-- holds an article (up to the newest news day), so a quiet day still shows the week and
-- a symbol whose news stopped keeps its last window, dated.
-- A view on the sources (see fct_news_articles): new scores count at once. Written so
-- that a query about some symbols reads those symbols' rows only (the filter reaches
-- every CTE: none is materialized, the calendar's end is one index probe).
with articles as not materialized (
    select * from {{ source('raw', 'news_articles') }}
),

article_symbols as (
    select * from {{ source('raw', 'news_article_symbols') }}
),

scored as not materialized (
    select
        s.symbol,
        (a.published_at at time zone '{{ var("news_day_timezone") }}')::date as news_day,
        sc.label,
        sc.score
    from article_symbols as s
    inner join articles as a on a.article_id = s.article_id
    cross join lateral ({{ latest_article_score('a.article_id') }}) as sc
),

daily as not materialized (
    select
        symbol,
        news_day,
        count(*) as articles,
        count(*) filter (where label = 'positive') as positive,
        count(*) filter (where label = 'neutral') as neutral,
        count(*) filter (where label = 'negative') as negative,
        sum(score) as score_sum
    from scored
    group by symbol, news_day
),

newest as (
    select (max(published_at) at time zone '{{ var("news_day_timezone") }}')::date as news_day
    from articles
),

calendar as (
    select
        b.symbol,
        d.day::date as sentiment_date
    from (
        select symbol, min(news_day) as first_day, max(news_day) as last_day
        from daily
        group by symbol
    ) as b
    cross join newest as n
    cross join lateral generate_series(
        b.first_day, least(b.last_day + 6, greatest(n.news_day, b.last_day)), interval '1 day'
    ) as d (day)
),

rolling as (
    select
        c.symbol,
        c.sentiment_date,
        coalesce(d.articles, 0)::integer as articles_day,
        (sum(coalesce(d.articles, 0)) over last_7_days)::integer as articles_7d,
        (sum(coalesce(d.positive, 0)) over last_7_days)::integer as positive_7d,
        (sum(coalesce(d.neutral, 0)) over last_7_days)::integer as neutral_7d,
        (sum(coalesce(d.negative, 0)) over last_7_days)::integer as negative_7d,
        sum(d.score_sum) over last_7_days as score_sum_7d
    from calendar as c
    left join daily as d on d.symbol = c.symbol and d.news_day = c.sentiment_date
    window last_7_days as (partition by c.symbol order by c.sentiment_date rows between 6 preceding and current row)
),

final as (
    select
        symbol,
        sentiment_date,
        articles_day,
        articles_7d,
        positive_7d,
        neutral_7d,
        negative_7d,
        score_sum_7d / articles_7d as average_score_7d,
        case
            when score_sum_7d / articles_7d >= {{ var('sentiment_label_threshold') }} then 'bullish'
            when score_sum_7d / articles_7d <= -{{ var('sentiment_label_threshold') }} then 'bearish'
            else 'neutral'
        end as overall_label
    from rolling
    where articles_7d > 0
)

select * from final
