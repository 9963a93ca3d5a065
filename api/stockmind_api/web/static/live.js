/* StockMind page: /ws/market — subscribe to the symbol on screen, reconnect with backoff. */
"use strict";
(function (SM) {
  const dot = () => document.getElementById("live-status");
  let ws = null, symbol = null, subscribed = null, attempt = 0, timer = null, handlers = {};
  let authed = false;

  function status(state, text) {
    const node = dot();
    node.dataset.state = state;
    node.textContent = text || state;
  }

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  function subscribe() {
    if (!symbol || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (subscribed && subscribed !== symbol) send({ type: "unsubscribe", symbol: subscribed });
    if (subscribed !== symbol) { status("pending", "subscribing"); send({ type: "subscribe", symbol }); }
  }

  function connect() {
    clearTimeout(timer);
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/market";
    status(attempt ? "reconnecting" : "pending", attempt ? "reconnecting" : "connecting");
    try { ws = new WebSocket(url); } catch (e) { return retry(); }
    subscribed = null; authed = false;
    ws.onopen = () => {
      attempt = 0;
      if (SM.auth.access) send({ type: "auth", token: SM.auth.access });
      else subscribe();
    };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (!m || typeof m.type !== "string") return;
      switch (m.type) {
        case "authenticated": authed = true; subscribe(); break;
        case "subscribed":
          subscribed = m.symbol;
          if (m.symbol === symbol) status("live", "live"); else subscribe();
          break;
        case "unsubscribed": break;
        case "error":
          if (/authenticat/i.test(m.message || "") && !authed && SM.auth.access) {
            // a stale token: carry on anonymously
            subscribe();
          } else if (/authenticate first/i.test(m.message || "")) status("off", "sign in for live");
          else if (subscribed !== symbol) status("off", "no live data");
          break;
        default: {
          const data = m.data || {};
          if (data.symbol && data.symbol !== symbol) return;
          const h = handlers[m.type];
          if (h) { try { h(data); } catch (e) { /* a bad message must not stop the socket */ } }
        }
      }
    };
    ws.onclose = (ev) => {
      ws = null; subscribed = null;
      if (ev.code === 4401 && SM.auth.access) { // a stale token: sign out, reconnect anonymously
        SM.setTokens(null);
        if (SM.onSignedOut) SM.onSignedOut("Session expired: sign in again."); // restarts the socket
        if (ws) return;
      }
      retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  function retry() {
    attempt += 1;
    const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt - 1, 5)) * (0.75 + Math.random() * 0.5);
    status("reconnecting", "reconnecting");
    clearTimeout(timer);
    timer = setTimeout(connect, delay);
  }

  /** The symbol on screen: subscribe to it (unsubscribing from the previous one). */
  function watch(sym) {
    symbol = sym;
    if (!ws) { if (!timer) connect(); return; }
    subscribe();
  }

  /** Reconnect (after sign-in/out: the connection authenticates in its first message). */
  function restart() {
    clearTimeout(timer);
    if (ws) { ws.onclose = null; ws.close(1000, "re-authenticating"); ws = null; }
    attempt = 0; connect();
  }

  function on(type, fn) { handlers[type] = fn; }

  SM.live = { watch, on, restart, socket: () => ws };
})(window.SM);
