/* StockMind page: the chart (candles + volume, SMA/Bollinger, RSI and MACD panes, forecast). */
"use strict";
(function (SM) {
  const LC = window.LightweightCharts;
  const C = {
    up: "#26a69a", down: "#ef5350", text: "#c9d1d9", grid: "#1f2630",
    sma20: "#f0b429", sma50: "#4dabf7", sma200: "#cc5de8", bb: "#8b949e",
    rsi: "#f783ac", macd: "#4dabf7", signal: "#ffa94d", fc: "#e8e8e8",
  };
  const DAY = 86400000;
  const HORIZON_DAYS = { "1w": 7, "1m": 30, "3m": 90 };

  let chart = null, s = {}, bars = [], interval = "1d", lastBar = null;

  const line = (color, extra, pane) => chart.addSeries(LC.LineSeries, Object.assign({
    color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false,
    crosshairMarkerVisible: false,
  }, extra || {}), pane || 0);

  function init(container) {
    if (!LC) throw new Error("chart library missing");
    chart = LC.createChart(container, {
      autoSize: true,
      layout: {
        attributionLogo: true, background: { type: "solid", color: "transparent" },
        textColor: C.text, fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        panes: { separatorColor: "#30363d" },
      },
      grid: { vertLines: { color: C.grid }, horzLines: { color: C.grid } },
      rightPriceScale: { borderColor: "#30363d" },
      timeScale: { borderColor: "#30363d", rightOffset: 4 },
      crosshair: { mode: LC.CrosshairMode.Normal },
    });
    s.candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: C.up, downColor: C.down, wickUpColor: C.up, wickDownColor: C.down, borderVisible: false,
    });
    s.volume = chart.addSeries(LC.HistogramSeries, {
      priceScaleId: "vol", priceFormat: { type: "volume" }, priceLineVisible: false, lastValueVisible: false,
    });
    s.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    s.bbUpper = line(C.bb, { lineStyle: LC.LineStyle.Dotted });
    s.bbMiddle = line(C.bb);
    s.bbLower = line(C.bb, { lineStyle: LC.LineStyle.Dotted });
    s.sma20 = line(C.sma20);
    s.sma50 = line(C.sma50);
    s.sma200 = line(C.sma200, { lineWidth: 2 });
    s.future = line("transparent"); // whitespace only: room on the time scale for the forecast
    s.fcLow = line(C.fc, { lineStyle: LC.LineStyle.Dotted, color: "rgba(232,232,232,.45)" });
    s.fcHigh = line(C.fc, { lineStyle: LC.LineStyle.Dotted, color: "rgba(232,232,232,.45)" });
    s.fcTarget = line(C.fc, { lineStyle: LC.LineStyle.Dashed, lineWidth: 2, lastValueVisible: true, title: "forecast" });
    s.rsi = line(C.rsi, { lastValueVisible: true }, 1);
    s.rsi.createPriceLine({ price: 70, color: C.down, lineStyle: LC.LineStyle.Dashed, lineWidth: 1, axisLabelVisible: true, title: "" });
    s.rsi.createPriceLine({ price: 30, color: C.up, lineStyle: LC.LineStyle.Dashed, lineWidth: 1, axisLabelVisible: true, title: "" });
    s.macdHist = chart.addSeries(LC.HistogramSeries, { priceLineVisible: false, lastValueVisible: false }, 2);
    s.macd = line(C.macd, { lastValueVisible: true }, 2);
    s.signal = line(C.signal, {}, 2);
    const panes = chart.panes();
    if (panes.length === 3) { panes[0].setStretchFactor(4); panes[1].setStretchFactor(1.2); panes[2].setStretchFactor(1.2); }
    window.stockmindChart = chart;
    return chart;
  }

  const volBar = (b) => ({ time: b.time, value: b.volume || 0, color: b.close >= b.open ? "rgba(38,166,154,.45)" : "rgba(239,83,80,.45)" });

  let lastForecast = null; // redrawn after a background refresh of the bars

  function setBars(rows, iv, keepView) {
    const sameView = keepView && iv === interval && bars.length;
    interval = iv;
    bars = (rows || []).map((r) => ({ time: r.date, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }))
      .filter((b) => b.time && b.open != null && b.close != null);
    s.candles.setData(bars.map((b) => Object.assign({}, b))); // the library rewrites what it is given
    s.volume.setData(bars.map(volBar));
    lastBar = bars.length ? Object.assign({}, bars[bars.length - 1]) : null;
    if (sameView && lastForecast) setForecast(lastForecast, true);
    else { clearForecast(); chart.timeScale().fitContent(); }
    return bars.length;
  }

  /** Daily indicator rows onto the bars' times (on 1w: the week's last row, at the week's bar). */
  function setIndicators(rows) {
    const times = bars.map((b) => b.time);
    const byTime = new Map();
    let j = 0;
    for (const r of (rows || []).slice().sort((a, b) => (a.tradeDate < b.tradeDate ? -1 : 1))) {
      if (interval === "1d") { byTime.set(r.tradeDate, r); continue; }
      while (j < times.length && times[j] < r.tradeDate) j++;
      if (j < times.length) byTime.set(times[j], r); // weekly bars carry the week's last day
    }
    const pick = (key) => {
      const out = [];
      for (const [time, r] of byTime) if (r[key] !== null && r[key] !== undefined) out.push({ time, value: r[key] });
      return out.sort((a, b) => (a.time < b.time ? -1 : 1));
    };
    for (const k of ["sma20", "sma50", "sma200", "bbUpper", "bbMiddle", "bbLower", "macd"]) s[k].setData(pick(k));
    s.signal.setData(pick("macdSignal"));
    s.rsi.setData(pick("rsi14"));
    s.macdHist.setData(pick("macdHist").map((p) => Object.assign(p, { color: p.value >= 0 ? "rgba(38,166,154,.6)" : "rgba(239,83,80,.6)" })));
  }

  const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
  const ms = (d) => Date.parse(d + "T00:00:00Z");

  function clearForecast() {
    for (const k of ["future", "fcLow", "fcHigh", "fcTarget"]) s[k].setData([]);
  }

  /** Target (dashed) and interval (dotted) from the last close to +7/30/90 calendar days. */
  function setForecast(p, keepView) {
    lastForecast = p || null;
    clearForecast();
    if (!p || !lastBar || !Array.isArray(p.horizons) || !p.horizons.length) return;
    if (p.asOf && lastBar.time < p.asOf) return; // the range ends before the forecast starts
    const start = lastBar.time > (p.asOf || "") ? lastBar.time : p.asOf;
    const base = ms(start);
    const close = start === lastBar.time ? lastBar.close : p.lastClose;
    const pts = p.horizons
      .filter((h) => h.targetPrice != null)
      .map((h) => ({ h, time: iso(base + (HORIZON_DAYS[h.label] || Math.round((h.days || 0) * 7 / 5)) * DAY) }))
      .sort((a, b) => (a.time < b.time ? -1 : 1));
    if (!pts.length) return;
    const horizonEnd = ms(pts[pts.length - 1].time);
    const step = interval === "1w" ? 7 : 1;
    const pad = new Set(pts.map((x) => x.time));
    for (let t = base + step * DAY; t <= horizonEnd; t += step * DAY) {
      const wd = new Date(t).getUTCDay();
      if (step === 7 || (wd !== 0 && wd !== 6)) pad.add(iso(t));
    }
    s.future.setData([...pad].sort().map((time) => ({ time })));
    const series = (key) => [{ time: lastBar.time, value: close }]
      .concat(pts.filter((x) => x.h[key] != null).map((x) => ({ time: x.time, value: x.h[key] })));
    s.fcTarget.setData(series("targetPrice"));
    s.fcLow.setData(series("low"));
    s.fcHigh.setData(series("high"));
    if (!keepView) chart.timeScale().fitContent();
  }

  /** A live quote onto the last candle: today's bar (1d) or the current week's bar (1w). */
  function liveQuote(q) {
    if (!lastBar || q.price == null || !q.timestamp) return false;
    const day = tradeDay(q.timestamp);
    if (!day || day < lastBar.time) return false;
    const hi = q.dayHigh != null ? q.dayHigh : q.price, lo = q.dayLow != null ? q.dayLow : q.price;
    let bar;
    if (interval === "1w") {
      const monday = (d) => { const t = ms(d); return t - ((new Date(t).getUTCDay() + 6) % 7) * DAY; };
      if (monday(day) === monday(lastBar.time)) {
        const base = bars[bars.length - 1];
        bar = { time: lastBar.time, open: base.open, high: Math.max(base.high, hi, q.price), low: Math.min(base.low, lo, q.price), close: q.price, volume: base.volume };
      } else {
        bar = { time: day, open: q.dayOpen != null ? q.dayOpen : q.price, high: hi, low: lo, close: q.price, volume: q.volume || 0 };
      }
    } else {
      bar = { time: day, open: q.dayOpen != null ? q.dayOpen : q.price, high: Math.max(hi, q.price), low: Math.min(lo, q.price), close: q.price, volume: q.volume || 0 };
    }
    s.candles.update(Object.assign({}, bar));
    s.volume.update(volBar(bar));
    if (bar.time !== lastBar.time && interval === "1w") bars.push(Object.assign({}, bar));
    lastBar = bar;
    return true;
  }

  /** The exchange's (New York) calendar day of a quote's timestamp, as YYYY-MM-DD. */
  const NY = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });
  function tradeDay(ts) {
    const d = new Date(ts);
    if (isNaN(d)) return null;
    try {
      const p = {};
      for (const x of NY.formatToParts(d)) p[x.type] = x.value;
      return `${p.year}-${p.month}-${p.day}`;
    } catch (e) { return d.toISOString().slice(0, 10); }
  }

  SM.chart = { tradeDay, init, setBars, setIndicators, setForecast, liveQuote, lastBar: () => lastBar };
})(window.SM);
