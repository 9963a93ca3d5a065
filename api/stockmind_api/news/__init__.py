"""``/api/market/news/<symbol>`` (the latest articles with their sentiment, paginated) and
``/api/market/sentiment/<symbol>`` (the 7-day aggregate and its recent daily series),
public.

views → schemas → queries (over ``marts.fct_news_articles`` and
``marts.fct_sentiment_daily``, views on the news and score sources).
"""
