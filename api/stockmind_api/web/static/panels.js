/* StockMind page: the panels (scanner + overview, forecast, sentiment, news, account). */
"use strict";
(function (SM) {
  const { el, fill, num, pct, big, tone, when, msg } = SM;
  const chg = (v) => el("span", { class: "chg " + tone(v) }, pct(v));

  /* ---- scanner ---- */
  const LISTS = [
    ["gainers", "Top gainers"], ["losers", "Top losers"], ["mostActive", "Most active"],
    ["unusualVolume", "Unusual volume"], ["breakouts", "Breakouts"],
  ];
  const COLS = {
    mover: [["Symbol", (r) => r.symbol], ["Close", (r) => num(r.close)], ["Chg", (r) => chg(r.changePercent)], ["Volume", (r) => big(r.volume)]],
    unusualVolume: [["Symbol", (r) => r.symbol], ["Close", (r) => num(r.close)], ["Chg", (r) => chg(r.changePercent)], ["× avg vol", (r) => num(r.volumeRatio, 1) + "×"]],
    breakouts: [["Symbol", (r) => r.symbol], ["Close", (r) => num(r.close)], ["Chg", (r) => chg(r.changePercent)],
      ["Break", (r) => el("span", { class: "chg " + (r.direction === "down" ? "down" : "up") }, (r.direction === "down" ? "▼ " + num(r.priorLow) : "▲ " + num(r.priorHigh)))]],
  };

  function table(key, title, rows, open) {
    const cols = COLS[key] || COLS.mover;
    const body = rows.length ? rows.map((r) => el("tr", {
      dataset: { symbol: r.symbol }, tabindex: "0", title: "Open " + r.symbol,
      onclick: () => open(r.symbol),
      onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(r.symbol); } },
    }, cols.map(([, f]) => el("td", null, f(r)))))
      : [el("tr", null, el("td", { colspan: String(cols.length), class: "muted" }, "none"))];
    return el("table", { class: "tbl", "data-list": key },
      el("caption", null, title),
      el("thead", null, el("tr", null, cols.map(([h]) => el("th", { scope: "col" }, h)))),
      el("tbody", null, body));
  }

  function scanner(r, open) {
    if (!r.ok) { fill("overview"); fill("scanner", SM.failure(r, "Scanner")); return; }
    const d = r.data || {};
    const tables = LISTS.filter(([k]) => Array.isArray(d[k])).map(([k, t]) => table(k, t, d[k], open));
    fill("scanner", tables.length ? tables : msg("No scanner lists in the response.", "muted"));
    const o = d.marketOverview;
    if (!o) { fill("overview", msg("No market overview.", "muted")); return; }
    const stat = (label, value, cls) => el("div", { class: "stat" }, el("span", { class: "muted small" }, label), el("b", { class: cls || "" }, value));
    const total = (o.advancers || 0) + (o.decliners || 0) + (o.unchanged || 0) || 1;
    fill("overview",
      el("p", { class: "small muted" }, (d.timeframe || "") + " · " + (d.periodStart && d.periodStart !== d.tradeDate ? d.periodStart + " → " : "") + (d.tradeDate || "")),
      el("div", { class: "stats" },
        stat("Scanned", num(o.totalScanned, 0)),
        stat("Advancers", num(o.advancers, 0), "up"), stat("Decliners", num(o.decliners, 0), "down"),
        stat("Unchanged", num(o.unchanged, 0)), stat("Avg chg", pct(o.avgChangePercent), tone(o.avgChangePercent)),
        stat("Bullish / bearish / neutral", [o.bullish, o.bearish, o.neutral].map((v) => num(v, 0)).join(" / ")),
        stat("Unusual volume", num(o.unusualVolume, 0)),
        stat("Breakouts ▲/▼", num(o.breakoutsUp, 0) + " / " + num(o.breakoutsDown, 0))),
      el("div", { class: "bar", role: "img", "aria-label": `${o.advancers} advancers, ${o.decliners} decliners, ${o.unchanged} unchanged` },
        el("i", { class: "pos", style: `width:${100 * (o.advancers || 0) / total}%` }),
        el("i", { class: "neu", style: `width:${100 * (o.unchanged || 0) / total}%` }),
        el("i", { class: "neg", style: `width:${100 * (o.decliners || 0) / total}%` })));
  }

  /* ---- forecast ---- */
  function forecast(r) {
    if (!r.ok) { fill("forecast", r.status === 404 ? msg("Forecast not available yet.", "muted") : msg(r.message)); return; }
    const p = r.data;
    const champion = p.alias === "champion";
    const hs = p.horizons || [];
    const head = (cols) => el("thead", null, el("tr", null, cols.map((h) => el("th", { scope: "col" }, h))));
    const better = (v) => (v.betterThanNaive === true ? "yes" : v.betterThanNaive === false ? "no" : "—");
    fill("forecast",
      el("p", null,
        el("span", { class: "badge " + (champion ? "ok" : "warn") }, champion ? "champion" : (p.alias || "challenger")),
        " model v", String(p.modelVersion ?? "—"), " · as of ", p.asOf || "—", " · last close ", num(p.lastClose)),
      champion ? null : el("p", { class: "small warn-text" }, "Not the champion: " + (p.status || "challenger")),
      el("table", { class: "tbl" },
        el("caption", { class: "sr-only" }, "Forecast per horizon"),
        head(["Horizon", "Target", "Chg", "Interval (low – high)"]),
        el("tbody", null, hs.map((h) => el("tr", null,
          el("th", { scope: "row" }, h.label), el("td", null, num(h.targetPrice)), el("td", null, chg(h.changePercent)),
          el("td", null, num(h.low) + " – " + num(h.high)))))),
      el("table", { class: "tbl judge", title: "validation mean absolute error of the log return: the model's vs the naive baseline's (a zero return)" },
        el("caption", null, "Validation: model vs naive"),
        head(["Horizon", "Model MAE", "Naive MAE", "Better than naive"]),
        el("tbody", null, hs.map((h) => {
          const v = h.validation || {}, b = better(v);
          return el("tr", null, el("th", { scope: "row" }, h.label), el("td", null, num(v.lstmMae, 4)), el("td", null, num(v.naiveMae, 4)),
            el("td", { class: "chg " + (b === "yes" ? "up" : b === "no" ? "down" : "") }, b));
        }))),
      el("p", { class: "small muted" },
        "Bullish score ", p.bullishScore ?? "—", "/100 · risk ", p.riskLevel || "—",
        p.scoredAt ? " · scored " + when(p.scoredAt) : ""));
  }

  /* ---- sentiment & news ---- */
  function sentiment(r) {
    if (!r.ok) { fill("sentiment", r.status === 404 ? msg("Sentiment not available yet.", "muted") : msg(r.message)); return; }
    const d = r.data || {};
    const l = Array.isArray(d.latest) ? d.latest[0] : d.latest;
    if (!l) { fill("sentiment", msg("Sentiment not available yet.", "muted")); return; }
    const total = (l.positive || 0) + (l.neutral || 0) + (l.negative || 0) || 1;
    const cls = /pos|bull/i.test(l.label) ? "up" : /neg|bear/i.test(l.label) ? "down" : "flat";
    fill("sentiment",
      el("p", null, el("b", { class: "chg " + cls }, l.label || "—"), " · 7-day average ", el("b", null, num(l.averageScore, 2)),
        el("span", { class: "small muted" }, " · " + (l.articles ?? 0) + " articles to " + (l.date || ""))),
      el("div", { class: "bar", role: "img", "aria-label": `${l.positive} positive, ${l.neutral} neutral, ${l.negative} negative` },
        el("i", { class: "pos", style: `width:${100 * (l.positive || 0) / total}%` }),
        el("i", { class: "neu", style: `width:${100 * (l.neutral || 0) / total}%` }),
        el("i", { class: "neg", style: `width:${100 * (l.negative || 0) / total}%` })),
      el("p", { class: "small" }, el("span", { class: "up" }, (l.positive || 0) + " positive"), " · ",
        (l.neutral || 0) + " neutral · ", el("span", { class: "down" }, (l.negative || 0) + " negative")));
  }

  function news(r) {
    if (!r.ok) { fill("news", r.status === 404 ? msg("News not available yet.", "muted") : msg(r.message)); return; }
    const items = (r.data && r.data.items) || [];
    if (!items.length) { fill("news", msg("No headlines yet.", "muted")); return; }
    fill("news", el("ul", { class: "news" }, items.map((a) => {
      const s = a.sentiment || {};
      const cls = /pos/i.test(s.label) ? "up" : /neg/i.test(s.label) ? "down" : "flat";
      const safe = /^https?:\/\//i.test(a.url || "") ? a.url : null;
      return el("li", null,
        safe ? el("a", { href: safe, target: "_blank", rel: "noopener noreferrer" }, a.title || "(untitled)") : el("span", null, a.title || "(untitled)"),
        el("div", { class: "small muted" }, [a.publisher || a.source, when(a.publishedAt)].filter(Boolean).join(" · "), " ",
          s.label ? el("span", { class: "chg " + cls, title: s.model || "" }, s.label + " " + num(s.score, 2)) : null,
          s.scorer ? " (" + s.scorer + ")" : ""));
    })));
  }

  /* ---- account ---- */
  function account(holdings, watch, open, onLogout) {
    const parts = [el("p", { class: "row" }, el("span", { class: "muted small" }, "Signed in"),
      el("button", { type: "button", onclick: onLogout }, "Sign out"))];
    if (!holdings.ok) parts.push(msg(holdings.message));
    else {
      const rows = holdings.data || [];
      const sum = rows.reduce((a, h) => ({ cost: a.cost + (h.totalCost || 0), value: a.value + (h.currentValue || 0) }), { cost: 0, value: 0 });
      parts.push(el("table", { class: "tbl" }, el("caption", null, "Holdings"),
        el("thead", null, el("tr", null, ["Symbol", "Shares", "Avg", "Price", "Value", "P&L", "P&L %"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", null, rows.length ? rows.map((h) => el("tr", { dataset: { symbol: h.symbol }, tabindex: "0", onclick: () => open(h.symbol) },
          el("td", null, h.symbol), el("td", null, num(h.shares, 2)), el("td", null, num(h.averagePrice)), el("td", null, num(h.currentPrice)),
          el("td", null, num(h.currentValue)), el("td", { class: "chg " + tone(h.profitLoss) }, SM.signed(h.profitLoss)), el("td", null, chg(h.profitLossPercent))))
          : el("tr", null, el("td", { colspan: "7", class: "muted" }, "No holdings."))),
        rows.length ? el("tfoot", null, el("tr", null, el("th", { scope: "row", colspan: "4" }, "Total"), el("td", null, num(sum.value)),
          el("td", { class: "chg " + tone(sum.value - sum.cost) }, SM.signed(sum.value - sum.cost)),
          el("td", null, chg(sum.cost ? 100 * (sum.value - sum.cost) / sum.cost : null)))) : null));
    }
    if (!watch.ok) parts.push(msg(watch.message));
    else {
      const rows = watch.data || [];
      parts.push(el("table", { class: "tbl" }, el("caption", null, "Watchlist & alerts"),
        el("thead", null, el("tr", null, ["Symbol", "Price", "Alert above", "Alert below", "Status"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", null, rows.length ? rows.map((w) => el("tr", { dataset: { symbol: w.symbol }, tabindex: "0", onclick: () => open(w.symbol) },
          el("td", null, w.symbol), el("td", null, num(w.currentPrice)), el("td", null, num(w.alertPriceAbove)), el("td", null, num(w.alertPriceBelow)),
          el("td", { class: w.aboveAlert || w.belowAlert ? "chg down" : "muted" },
            w.aboveAlert ? "above alert" : w.belowAlert ? "below alert" : "—")))
          : el("tr", null, el("td", { colspan: "5", class: "muted" }, "Watchlist is empty.")))));
    }
    fill("account", parts);
  }

  SM.panels = { scanner, forecast, sentiment, news, account };
})(window.SM);
