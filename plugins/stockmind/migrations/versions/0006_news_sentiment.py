"""News and sentiment: articles in ``raw`` (written by the news DAG), their scores in ``ml``
(written by the scorers); dbt reads both as sources, the API reads the marts over them.

An article is stored once however many sources and runs deliver it: its key is the
hash of its canonical URL, and its content hash (normalised title, publisher and UTC
day of publication) is unique too, so the same story under another URL is the same
row. The symbols an article is about are a link table (a second source may add a
symbol to a stored article).

A score is keyed on (article, scorer, model): rescoring with the same model replaces
its row, a new model version adds one beside it; the marts use each article's latest.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        create table raw.news_articles (
            article_id     text primary key,          -- sha256(canonical_url), hex
            canonical_url  text not null unique,
            url            text not null,             -- as the source gave it
            content_hash   text not null unique,      -- sha256(normalised title | publisher | day)
            title          text not null,
            summary        text,
            publisher      text,
            source         text not null,             -- the first source that delivered it
            published_at   timestamptz not null,
            fetched_at     timestamptz not null default now(),
            dag_run_id     text
        );
        create index news_articles_published on raw.news_articles (published_at desc);

        create table raw.news_article_symbols (
            article_id  text not null references raw.news_articles on delete cascade,
            symbol      text not null,
            primary key (article_id, symbol)
        );
        create index news_article_symbols_symbol on raw.news_article_symbols (symbol);

        create table ml.sentiment_scores (
            article_id  text not null references raw.news_articles on delete cascade,
            scorer      text not null check (scorer in ('gemini', 'local')),
            model       text not null,               -- e.g. gemini-2.5-flash, stockmind-sentiment/3
            label       text not null check (label in ('positive', 'neutral', 'negative')),
            score       double precision not null check (score between -1 and 1),
            analysis    text,
            scored_at   timestamptz not null default now(),
            primary key (article_id, scorer, model)
        );
        create index sentiment_scores_latest on ml.sentiment_scores (article_id, scored_at desc);
        """
    )


def downgrade() -> None:
    op.execute("drop table if exists ml.sentiment_scores")
    op.execute("drop table if exists raw.news_article_symbols")
    op.execute("drop table if exists raw.news_articles")
