"""The live market page at ``/``: one HTML file, one script and one stylesheet of our own
(``static/``), and TradingView's lightweight-charts from the npm lock (``node_modules/``,
installed by ``scripts/install.sh``) — no build step, no CDN. The page reads the public
REST endpoints and the ``/ws/market`` WebSocket like any other client.
"""
