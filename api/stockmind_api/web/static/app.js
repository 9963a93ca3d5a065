/* StockMind page: state, symbol search, loading a symbol, live updates, sign-in. */
"use strict";
(function (SM) {
  const { api, el, fill, num, signed, tone, msg } = SM;
  const $ = (id) => document.getElementById(id);
  const state = { symbol: null, interval: "1d", timeframe: "daily", load: 0, scannerData: null };
  const today = () => new Date().toISOString().slice(0, 10);
  const yearAgo = () => { const d = new Date(); d.setUTCFullYear(d.getUTCFullYear() - 1); return d.toISOString().slice(0, 10); };
  const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9.\-^=]{0,19}$/;
  const enc = encodeURIComponent;

  /* ---- price display ---- */
  function showPrice(price, change, pct, at) {
    $("price").textContent = price == null ? "—" : num(price);
    const c = $("change");
    c.textContent = change == null ? "—" : signed(change) + " (" + SM.pct(pct) + ")";
    c.className = "chg " + tone(change);
    $("quote-time").textContent = at ? "as of " + (String(at).length > 10 ? SM.when(at) : at) : "";
  }

  /* ---- loading a symbol ---- */
  function range() {
    let from = $("from").value || yearAgo(), to = $("to").value || today();
    if (from > to) [from, to] = [to, from];
    return { from, to };
  }

  async function loadChart(seq, background) {
    const { from, to } = range();
    const sym = enc(state.symbol);
    const [stock, ind] = await Promise.all([
      api(`/api/market/stock/${sym}?start=${from}&end=${to}&interval=${state.interval}`),
      api(`/api/market/stock/${sym}/indicators?start=${from}&end=${to}`),
    ]);
    if (seq !== state.load) return;
    if (!stock.ok) {
      if (background) { fill("chart-msg", SM.failure(stock, "Refresh")); return; } // keep the chart
      SM.chart.setBars([], state.interval); SM.chart.setIndicators([]);
      fill("chart-msg", SM.failure(stock, "Price history"));
      showPrice(null);
      return;
    }
    const d = stock.data;
    $("symbol-name").textContent = [d.name, d.exchange].filter(Boolean).join(" · ");
    showPrice(d.price, d.change, d.changePercent, d.tradeDate);
    const n = SM.chart.setBars(d.historicalData, state.interval, background);
    SM.chart.setIndicators(ind.ok ? ind.data : []);
    fill("chart-msg", n ? null : msg("No bars in this range.", "muted"), ind.ok ? null : msg("Indicators: " + ind.message));
    if (state.quote && state.quote.symbol === state.symbol) applyQuote(state.quote);
    document.body.dataset.ready = "1";
  }

  async function loadForecast(seq) {
    const r = await api(`/api/market/predictions/${enc(state.symbol)}`);
    if (seq !== state.load) return;
    SM.panels.forecast(r);
    SM.chart.setForecast(r.ok ? r.data : null);
  }

  async function loadSentiment(seq) {
    const [s, n] = await Promise.all([
      api(`/api/market/sentiment/${enc(state.symbol)}?days=30`),
      api(`/api/market/news/${enc(state.symbol)}?pageSize=5`),
    ]);
    if (seq !== state.load) return;
    SM.panels.sentiment(s);
    SM.panels.news(n);
  }

  async function open(symbol) {
    symbol = String(symbol || "").toUpperCase();
    if (!SYMBOL.test(symbol)) return;
    const seq = ++state.load;
    if (symbol !== state.symbol) state.quote = null;
    state.symbol = symbol;
    $("current-symbol").textContent = symbol;
    document.title = symbol + " — StockMind";
    if (location.hash.slice(1) !== symbol) history.replaceState(null, "", "#" + symbol);
    for (const id of ["forecast", "sentiment", "news"]) fill(id, msg("Loading…", "muted"));
    SM.live.watch(symbol);
    await loadChart(seq); // the forecast is drawn after the bars it starts from
    await Promise.all([loadForecast(seq), loadSentiment(seq)]);
  }

  /* ---- scanner ---- */
  async function loadScanner() {
    const r = await api(`/api/market/scanner?timeframe=${state.timeframe}`);
    SM.panels.scanner(r, open);
    return r;
  }

  async function defaultSymbol(scan) {
    const g = scan.ok && scan.data && scan.data.gainers;
    if (g && g.length) return g[0].symbol;
    const aapl = await api("/api/market/symbols?search=AAPL&pageSize=5");
    const items = (aapl.ok && aapl.data && aapl.data.items) || [];
    if (items.some((s) => s.symbol === "AAPL")) return "AAPL";
    const first = await api("/api/market/symbols?page=1&pageSize=1");
    const f = first.ok && first.data && first.data.items && first.data.items[0];
    return f ? f.symbol : null;
  }

  /* ---- symbol search ---- */
  const search = { timer: null, seq: 0, cache: new Map(), active: -1 };
  const results = () => $("symbol-results");
  function closeResults() { results().hidden = true; $("symbol-search").setAttribute("aria-expanded", "false"); search.active = -1; }
  function pick(sym) { closeResults(); $("symbol-search").value = ""; open(sym); }

  function renderResults(r, q) {
    const list = results();
    if (!r.ok) fill(list, el("li", { class: "msg error" }, r.message));
    else {
      const items = (r.data && r.data.items) || [];
      fill(list, items.length ? items.map((s, i) => el("li", {
        role: "option", id: "opt-" + i, dataset: { symbol: s.symbol }, "aria-selected": "false",
        onmousedown: (e) => { e.preventDefault(); pick(s.symbol); },
      }, el("b", null, s.symbol), " ", el("span", { class: "muted small" }, s.name || "")))
        : el("li", { class: "muted" }, `No symbol matches “${q}”.`));
    }
    list.hidden = false;
    $("symbol-search").setAttribute("aria-expanded", "true");
  }

  function onSearchInput() {
    const q = $("symbol-search").value.trim();
    clearTimeout(search.timer);
    if (!q) { closeResults(); return; }
    search.timer = setTimeout(async () => {
      const seq = ++search.seq;
      const key = q.toLowerCase();
      const r = search.cache.get(key) || await api(`/api/market/symbols?search=${enc(q)}&page=1&pageSize=8`);
      if (r.ok) search.cache.set(key, r);
      if (seq === search.seq) renderResults(r, q);
    }, 300);
  }

  function onSearchKey(e) {
    const opts = [...results().querySelectorAll("li[role=option]")];
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!opts.length) return;
      e.preventDefault();
      search.active = (search.active + (e.key === "ArrowDown" ? 1 : opts.length - 1)) % opts.length;
      opts.forEach((o, i) => o.setAttribute("aria-selected", String(i === search.active)));
      $("symbol-search").setAttribute("aria-activedescendant", opts[search.active].id);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const o = opts[search.active] || opts[0];
      const q = $("symbol-search").value.trim();
      if (o) pick(o.dataset.symbol);
      else if (SYMBOL.test(q)) pick(q);
    } else if (e.key === "Escape") closeResults();
  }

  /* ---- live ---- */
  const refetch = {};
  function later(name, fn) { clearTimeout(refetch[name]); refetch[name] = setTimeout(() => fn(state.load), 800); }
  function applyQuote(q) {
    const day = SM.chart.tradeDay(q.timestamp);
    const last = SM.chart.lastBar();
    if (!last || !day || day < last.time) return; // no bars yet, or older than what is drawn
    showPrice(q.price, q.change, q.changePercent, q.timestamp);
    const { to } = range();
    if (day <= to || to >= today()) SM.chart.liveQuote(q); // a range up to today takes today's bar
  }
  SM.live.on("stock_update", (q) => {
    if (q.symbol && q.symbol !== state.symbol) return;
    state.quote = q; // kept: the chart may still be loading
    applyQuote(q);
  });
  SM.live.on("indicator_update", () => later("chart", (seq) => loadChart(seq, true)));
  SM.live.on("prediction_update", () => later("forecast", loadForecast));
  SM.live.on("sentiment_update", () => later("sentiment", loadSentiment));

  /* ---- account ---- */
  async function loadAccount() {
    if (!SM.auth.access) { $("login").hidden = false; fill("account"); return; }
    $("login").hidden = true;
    const [h, w] = await Promise.all([api("/api/portfolio/holdings"), api("/api/portfolio/watchlist")]);
    if (!SM.auth.access) return;
    SM.panels.account(h, w, open, logout);
  }

  async function login(e) {
    e.preventDefault();
    const f = e.target;
    const btn = f.querySelector("button");
    btn.disabled = true;
    const r = await api("/api/auth/login", { method: "POST", body: { email: f.email.value, password: f.password.value }, noRetry: true });
    btn.disabled = false;
    if (!r.ok || !r.data || !r.data.accessToken) { fill("account", msg(r.message || "Sign-in failed.")); return; }
    f.password.value = "";
    SM.setTokens(r.data.accessToken, r.data.refreshToken);
    SM.live.restart();
    loadAccount();
  }

  async function logout() {
    const refresh = SM.auth.refresh;
    await api("/api/auth/logout", { method: "POST", body: refresh ? { refreshToken: refresh } : {}, noRetry: true });
    SM.setTokens(null);
    SM.live.restart();
    loadAccount();
  }

  SM.onSignedOut = (why) => { $("login").hidden = false; fill("account", msg(why, "muted")); SM.live.restart(); };

  /* ---- wiring ---- */
  function pressed(group, attr, value) {
    group.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset[attr] === value)));
  }

  async function start() {
    SM.chart.init($("chart"));
    $("from").value = yearAgo();
    $("to").value = today();
    $("symbol-search").addEventListener("input", onSearchInput);
    $("symbol-search").addEventListener("keydown", onSearchKey);
    $("symbol-search").addEventListener("blur", () => setTimeout(closeResults, 150));
    $("range").addEventListener("submit", (e) => { e.preventDefault(); if (state.symbol) open(state.symbol); });
    document.querySelectorAll("[data-interval]").forEach((b) => b.addEventListener("click", () => {
      state.interval = b.dataset.interval;
      pressed(b.parentNode, "interval", state.interval);
      if (state.symbol) open(state.symbol);
    }));
    document.querySelectorAll("[data-timeframe]").forEach((b) => b.addEventListener("click", () => {
      state.timeframe = b.dataset.timeframe;
      pressed(b.parentNode, "timeframe", state.timeframe);
      loadScanner();
    }));
    $("login").addEventListener("submit", login);
    window.addEventListener("hashchange", () => {
      const h = decodeURIComponent(location.hash.slice(1)).toUpperCase();
      if (h && h !== state.symbol) open(h);
    });
    loadAccount();
    const hash = decodeURIComponent(location.hash.slice(1));
    const scan = loadScanner();
    let sym = SYMBOL.test(hash) ? hash : null;
    if (!sym) sym = await defaultSymbol(await scan);
    if (sym) await open(sym);
    else fill("chart-msg", msg("No symbols available yet."));
  }

  start().catch((e) => fill("chart-msg", msg("The page failed to start: " + (e && e.message))));
})(window.SM);
