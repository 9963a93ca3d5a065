/* StockMind page: the API client (envelopes, errors, the optional token) and DOM helpers. */
"use strict";
window.SM = window.SM || {};
(function (SM) {
  const store = window.sessionStorage;
  const auth = { access: null, refresh: null };
  try {
    auth.access = store.getItem("sm.access");
    auth.refresh = store.getItem("sm.refresh");
  } catch (e) { /* storage disabled: memory only */ }

  function setTokens(access, refresh) {
    auth.access = access || null;
    auth.refresh = refresh || null;
    try {
      if (access) { store.setItem("sm.access", access); store.setItem("sm.refresh", refresh || ""); }
      else { store.removeItem("sm.access"); store.removeItem("sm.refresh"); }
    } catch (e) { /* ignore */ }
  }

  async function raw(path, opts, token) {
    const headers = { Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(path, {
      method: opts.method || "GET", headers, signal: opts.signal,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    return { res, body };
  }

  let refreshing = null; // one refresh at a time: refresh tokens may rotate
  function refreshToken() {
    if (!refreshing) refreshing = doRefresh().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function doRefresh() {
    if (!auth.refresh) return false;
    try {
      const { res, body } = await raw("/api/auth/refresh", { method: "POST" }, auth.refresh);
      if (res.ok && body && body.data && body.data.accessToken) {
        setTokens(body.data.accessToken, body.data.refreshToken || auth.refresh);
        return true;
      }
    } catch (e) { /* fall through */ }
    return false;
  }

  /** Never throws: {ok, status, data, message}. */
  async function api(path, opts) {
    opts = opts || {};
    try {
      const used = auth.access;
      let { res, body } = await raw(path, opts, used);
      if (res.status === 401 && used && !opts.noRetry) {
        if (auth.access === used && !(await refreshToken())) { // expired for good: carry on anonymously
          setTokens(null);
          if (SM.onSignedOut) SM.onSignedOut("Session expired: sign in again.");
        }
        ({ res, body } = await raw(path, opts, auth.access));
      }
      const ok = res.ok && body && body.success !== false;
      let message = (body && body.message) || res.statusText || "request failed";
      if (res.status === 429) {
        const wait = res.headers.get("Retry-After");
        message = "Rate limit reached" + (wait ? " — retry in " + fmtWait(+wait) : "") + ".";
      }
      return { ok, status: res.status, data: body ? body.data : null, message };
    } catch (e) {
      if (e && e.name === "AbortError") return { ok: false, status: 0, aborted: true, data: null, message: "cancelled" };
      return { ok: false, status: 0, data: null, message: "Network error: the API is unreachable." };
    }
  }

  function fmtWait(s) {
    if (!isFinite(s)) return "a moment";
    return s >= 90 ? Math.ceil(s / 60) + " min" : Math.max(1, Math.round(s)) + " s";
  }

  /** el("div", {class: "x", onclick: f}, child, "text", ...) */
  function el(tag, attrs) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (let i = 2; i < arguments.length; i++) {
      const c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach((x) => x != null && node.append(x));
      else node.append(c);
    }
    return node;
  }

  function fill(target, ...children) {
    const node = typeof target === "string" ? document.getElementById(target) : target;
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return node;
  }

  const num = (v, d) => (v === null || v === undefined || !isFinite(v) ? "—"
    : Number(v).toLocaleString("en-US", { minimumFractionDigits: d === undefined ? 2 : d, maximumFractionDigits: d === undefined ? 2 : d }));
  const pct = (v) => (v === null || v === undefined || !isFinite(v) ? "—" : (v > 0 ? "+" : "") + num(v) + "%");
  const signed = (v) => (v === null || v === undefined || !isFinite(v) ? "—" : (v > 0 ? "+" : "") + num(v));
  const big = (v) => {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    const a = Math.abs(v);
    if (a >= 1e9) return num(v / 1e9, 1) + "B";
    if (a >= 1e6) return num(v / 1e6, 1) + "M";
    if (a >= 1e3) return num(v / 1e3, 1) + "K";
    return num(v, 0);
  };
  const tone = (v) => (v > 0 ? "up" : v < 0 ? "down" : "flat");
  const when = (iso) => {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString("en-US", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  };
  const msg = (text, cls) => el("p", { class: "msg " + (cls || "error"), role: cls === "muted" ? null : "alert" }, text);
  /** An API failure as an inline message; 404 reads "<what> not available yet". */
  const failure = (r, what) => (r.status === 404 && what ? msg(what + " not available yet.", "muted") : msg(r.message || "Request failed."));

  Object.assign(SM, {
    api, auth, setTokens, el, fill, num, pct, signed, big, tone, when, msg, failure,
  });
})(window.SM);
