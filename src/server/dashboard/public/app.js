// Switchyard's dashboard: plain DOM, no framework. It polls /dashboard/state
// (breakers, providers, and the metrics report when metrics are on; else it
// tries /v1/metrics) every few seconds, sooner after a failed request, and
// follows /dashboard/events for the live tail. Everything from the server is
// written with textContent.
"use strict";

const POLL_MS = 2000;
/** After a failed request the state is read again this soon, to show a breaker that just opened. */
const SOON_MS = 250;
const TAIL_KEPT = 200;
const TAIL_SHOWN = 30;
/** Sparklines show this many of the series' points (10 s each: five minutes). */
const SPARK_POINTS = 30;
const SVG = "http://www.w3.org/2000/svg";
/** Seconds per sparkline point when worked out from the tail (as /v1/metrics' series). */
const STEP_S = 10;

const view = {
  upstream: null,
  /** Local time at which `upstream` was read, for the recovery countdowns. */
  upstreamAt: 0,
  upstreamError: "",
  metrics: null,
  metricsError: "",
  /** The live tail, newest last. */
  tail: [],
  lastSeq: 0,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c === undefined || c === null ? "" : String(c)));
  return node;
}

// ---------------------------------------------------------------- formatting

const fmtMs = (ms) => (ms === null || ms === undefined ? "—" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const fmtRate = (r) => (r === null || r === undefined ? "—" : r >= 10 ? r.toFixed(0) : r.toFixed(2));
const fmtPct = (p) => (p === null || p === undefined ? "—" : `${(p * 100).toFixed(p > 0 && p < 0.1 ? 1 : 0)}%`);
const fmtTime = (t) => new Date(t).toLocaleTimeString([], { hour12: false });

function fmtDuration(s) {
  if (s === null || s === undefined) return "—";
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(s / 3600);
  return h < 48 ? `${h}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

const BREAKER_TEXT = { closed: "closed", open: "open", half_open: "half-open" };

// ---------------------------------------------------------------- health

/** A target's health from its breaker, its provider's breaker and last probe, and its error rate. */
function targetHealth(target, provider, m1) {
  if (target.disabled) return ["disabled", "disabled"];
  const own = target.breaker?.state;
  const prov = provider?.breaker?.state;
  if (own === "open") return ["unhealthy", "unhealthy"];
  if (prov === "open") return ["unhealthy", "provider down"];
  if (own === "half_open" || prov === "half_open") return ["recovering", "recovering"];
  if (provider?.healthy === false) return ["unhealthy", "probe failing"];
  if (m1 && m1.requests >= 5 && m1.success_rate !== null && m1.success_rate < 0.9) return ["degraded", "degraded"];
  return ["healthy", "healthy"];
}

function providerHealth(p) {
  if (p.disabled) return ["disabled", "disabled"];
  const b = p.breaker?.state;
  if (b === "open") return ["unhealthy", "unhealthy"];
  if (b === "half_open") return ["recovering", "recovering"];
  if (p.healthy === false) return ["unhealthy", "probe failing"];
  if (p.healthy === true || p.reachable) return ["healthy", "healthy"];
  // Never probed: an error in the last minute is worth a look; otherwise traffic says nothing against it.
  const recentError = p.last_error_at !== undefined && serverNow() - Date.parse(p.last_error_at) < 60_000;
  return recentError ? ["degraded", "recent errors"] : ["healthy", "healthy"];
}

function badge(health, text) {
  return el("span", { class: "badge", "data-health": health }, text);
}

function breakerCell(b) {
  if (!b) return el("span", { class: "muted" }, "none");
  const trips = b.trips > 0 ? ` · ${b.trips} trip${b.trips === 1 ? "" : "s"}` : "";
  return el("span", { class: "breaker", "data-breaker": b.state }, `${BREAKER_TEXT[b.state] ?? b.state}${trips}`);
}

/** A countdown the ticker updates each second; its deadline is local time. */
function countdownCell(b) {
  if (b?.recovers_in_s === undefined) return el("span", { class: "muted" }, "—");
  const deadline = view.upstreamAt + b.recovers_in_s * 1000;
  const span = el("span", { class: "countdown", "data-deadline": deadline });
  span.textContent = fmtDuration((deadline - Date.now()) / 1000);
  return span;
}

function tickCountdowns() {
  for (const span of document.querySelectorAll(".countdown")) {
    const left = (Number(span.dataset.deadline) - Date.now()) / 1000;
    span.textContent = left > 0 ? fmtDuration(left) : "now";
  }
}

// ---------------------------------------------------------------- sparklines

/** One inline SVG with a line per series; nulls (no traffic in that step) break the line. */
function sparkline(seriesList, label) {
  const w = 120;
  const h = 28;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(h));
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  const all = seriesList.flatMap((s) => s.values).filter((v) => typeof v === "number");
  const title = document.createElementNS(SVG, "title");
  title.textContent = all.length === 0 ? `${label}: no traffic` : `${label}: ${fmtMs(Math.min(...all))} – ${fmtMs(Math.max(...all))}`;
  svg.append(title);
  svg.setAttribute("aria-label", title.textContent);
  const max = Math.max(1, ...all);
  const base = document.createElementNS(SVG, "line");
  for (const [k, v] of [["x1", 0], ["x2", w], ["y1", h - 1.5], ["y2", h - 1.5], ["class", "base"]]) base.setAttribute(k, String(v));
  svg.append(base);
  for (const { values, cls } of seriesList) {
    const n = values.length;
    let run = [];
    const flush = () => {
      // A lone point (traffic in one step only) is drawn as a short dash.
      if (run.length === 1) run = [[run[0][0] - 1.5, run[0][1]], [run[0][0] + 1.5, run[0][1]]];
      if (run.length > 1) {
        const line = document.createElementNS(SVG, "polyline");
        line.setAttribute("points", run.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
        line.setAttribute("class", cls);
        svg.append(line);
      }
      run = [];
    };
    values.forEach((v, i) => {
      if (typeof v !== "number") return flush();
      run.push([n === 1 ? w - 2 : (i / (n - 1)) * (w - 4) + 2, h - 2 - (v / max) * (h - 4)]);
    });
    flush();
  }
  return svg;
}

const lastPoints = (arr) => (Array.isArray(arr) ? arr.slice(-SPARK_POINTS) : []);

// ---------------------------------------------------------------- rendering

function metricsUnavailable() {
  return el("span", { class: "muted na" }, "metrics unavailable");
}

// ---------------------------------------------------------------- without /v1/metrics

/** The server's time now, from its last state (the tail's times are the server's). */
const serverNow = () => (view.upstream ? view.upstream.now + (Date.now() - view.upstreamAt) : Date.now());

function quantile(sorted, q) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const latencies = (entries) => entries.map((r) => r.latency_ms).sort((a, b) => a - b);

/**
 * Per-target figures in /v1/metrics' shape, worked out from the live tail
 * when the gateway serves no metrics: they cover only the requests the tail
 * holds (since the dashboard was first opened), and have no TTFT.
 */
function metricsFromTail() {
  const now = serverNow();
  const byTarget = {};
  for (const r of view.tail) if (r.target !== undefined) (byTarget[r.target] ??= []).push(r);
  const out = {};
  for (const [label, entries] of Object.entries(byTarget)) {
    const lastMinute = entries.filter((r) => now - r.time <= 60_000);
    const lat = latencies(lastMinute);
    const errors = lastMinute.filter((r) => r.code !== undefined).length;
    const p50 = [];
    const p99 = [];
    for (let i = SPARK_POINTS - 1; i >= 0; i--) {
      const to = now - i * STEP_S * 1000;
      const step = latencies(entries.filter((r) => r.time > to - STEP_S * 1000 && r.time <= to));
      p50.push(quantile(step, 0.5));
      p99.push(quantile(step, 0.99));
    }
    out[label] = {
      "1m": {
        requests: lastMinute.length,
        errors,
        success_rate: lastMinute.length === 0 ? null : 1 - errors / lastMinute.length,
        rps: lastMinute.length / 60,
        latency_ms: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) },
      },
      series: { step_s: STEP_S, latency_p50_ms: p50, latency_p99_ms: p99 },
    };
  }
  return out;
}

/** Every request in the tail over the last minute, as one window. */
function tailWindow() {
  const now = serverNow();
  const lastMinute = view.tail.filter((r) => now - r.time <= 60_000);
  const errors = lastMinute.filter((r) => r.code !== undefined).length;
  return { requests: lastMinute.length, errors, rps: lastMinute.length / 60 };
}

/** Per-target figures: /v1/metrics' when served, else the tail's. */
const targetFigures = () => view.metrics?.targets ?? metricsFromTail();

function renderTargets() {
  const body = $("targets").tBodies[0];
  const rows = [];
  const upstream = view.upstream;
  const metricsTargets = targetFigures();
  const labels = new Set([...Object.keys(upstream?.targets ?? {}), ...Object.keys(metricsTargets)]);
  for (const label of [...labels].sort()) {
    const t = upstream?.targets?.[label] ?? { provider: label.split("/")[0], model: label.slice(label.indexOf("/") + 1) };
    const m = metricsTargets[label];
    const m1 = m?.["1m"];
    const [health, text] = targetHealth(t, upstream?.providers?.[t.provider], m1);
    const errors = m1 ? (m1.requests > 0 ? m1.errors / m1.requests : null) : undefined;
    const num = (v) => el("td", { class: "num" }, v);
    const series = m?.series;
    rows.push(
      el(
        "tr",
        { "data-target": label, "data-health": health },
        el("td", { class: "name" }, label),
        el("td", { class: "health" }, badge(health, text)),
        el("td", {}, breakerCell(t.breaker)),
        el("td", {}, countdownCell(t.breaker)),
        num(m1 ? fmtRate(m1.rps) : "—"),
        el("td", { class: "num errors" }, m1 ? fmtPct(errors) : "—"),
        num(m1 ? fmtMs(m1.latency_ms?.p50) : "—"),
        num(m1 ? fmtMs(m1.latency_ms?.p99) : "—"),
        el("td", {}, series ? sparkline([{ values: lastPoints(series.latency_p99_ms), cls: "p99" }, { values: lastPoints(series.latency_p50_ms), cls: "p50" }], "latency p50/p99") : metricsUnavailable()),
        el("td", {}, series?.ttft_p50_ms ? sparkline([{ values: lastPoints(series.ttft_p50_ms), cls: "ttft" }], "TTFT p50") : metricsUnavailable()),
        num(m?.health_score === null || m?.health_score === undefined ? "—" : String(Math.round(m.health_score))),
        num(m?.in_flight ?? t.in_flight ?? "—"),
      ),
    );
  }
  body.replaceChildren(...rows);
  if (rows.length === 0) body.append(el("tr", {}, el("td", { colspan: 12, class: "muted" }, view.upstream ? "No targets configured." : "Loading…")));
}

function renderProviders() {
  const body = $("providers").tBodies[0];
  const providers = view.upstream?.providers ?? {};
  const rows = Object.keys(providers)
    .sort()
    .map((name) => {
      const p = providers[name];
      const [health, text] = providerHealth(p);
      const err = p.last_error_code ? `${p.last_error_code}${p.last_error_at ? ` at ${fmtTime(p.last_error_at)}` : ""}` : "";
      return el(
        "tr",
        { "data-provider": name, "data-health": health },
        el("td", { class: "name" }, name),
        el("td", {}, p.type),
        el("td", { class: "health" }, badge(health, text)),
        el("td", {}, breakerCell(p.breaker)),
        el("td", {}, countdownCell(p.breaker)),
        el("td", { class: "num" }, p.in_flight ?? "—"),
        el("td", { class: "error", title: p.last_error ?? "" }, err),
      );
    });
  body.replaceChildren(...rows);
}

function renderTotals() {
  const up = view.upstream;
  const m = view.metrics;
  const providers = Object.values(up?.providers ?? {}).filter((p) => !p.disabled);
  const down = providers.filter((p) => providerHealth(p)[0] === "unhealthy").length;
  const targets = Object.entries(up?.targets ?? {}).filter(([, t]) => !t.disabled);
  const figures = targetFigures();
  const sick = targets.filter(([label, t]) => targetHealth(t, up.providers[t.provider], figures[label]?.["1m"])[0] !== "healthy").length;
  const status = !up ? ["unknown", view.upstreamError || "loading"] : down === providers.length && providers.length > 0 ? ["unhealthy", "down"] : down > 0 || sick > 0 ? ["degraded", "degraded"] : ["healthy", "ok"];
  const s = $("status");
  s.dataset.health = status[0];
  s.textContent = status[1];

  // Per public model, so that requests no target took (no healthy target, bad input) count too.
  const windows = m ? Object.values(m.models ?? {}).map((x) => x["1m"]) : [tailWindow()];
  let rps = 0;
  let requests = 0;
  let errors = 0;
  for (const w of windows) {
    if (!w) continue;
    rps += w.rps ?? 0;
    requests += w.requests ?? 0;
    errors += w.errors ?? 0;
  }
  $("rps").textContent = m || requests > 0 ? fmtRate(rps) : "—";
  $("error-rate").textContent = requests > 0 ? fmtPct(errors / requests) : "—";
  const inFlight = m?.in_flight ?? (up ? providers.reduce((n, p) => n + (p.in_flight ?? 0), 0) : undefined);
  $("in-flight").textContent = inFlight ?? "—";
  const queued = m?.queued ?? up?.queue?.queued;
  $("queued").textContent = queued ?? (up ? "0" : "—");
  $("uptime").textContent = m ? fmtDuration(m.uptime_s) : "—";

  const notice = $("notice");
  const messages = [];
  if (view.upstreamError) messages.push(`State unavailable: ${view.upstreamError}.`);
  if (view.metricsError) {
    messages.push(`Metrics unavailable (${view.metricsError}): rates and latencies come from the live tail (the requests since the dashboard was first opened); TTFT needs GET /v1/metrics.`);
  }
  notice.hidden = messages.length === 0;
  notice.textContent = messages.join(" ");
  $("updated").textContent = view.upstreamAt ? `updated ${fmtTime(view.upstreamAt)}` : "";
}

function tailRow(r) {
  const failed = r.status >= 400 || r.code !== undefined;
  return el(
    "tr",
    { "data-request": r.id, "data-seq": r.seq, class: failed ? "failed" : "" },
    el("td", {}, fmtTime(r.time)),
    el("td", { class: "id", title: r.id }, r.id.length > 12 ? `${r.id.slice(0, 8)}…` : r.id),
    el("td", {}, r.model),
    el("td", { class: "target" }, r.target ?? "—"),
    el("td", { class: "num status" }, r.status),
    el("td", { class: "error" }, r.code ?? ""),
    el("td", { class: "num" }, fmtMs(r.latency_ms)),
    el("td", { class: "num" }, r.attempts),
    el("td", {}, r.stream ? "stream" : ""),
    el("td", { class: "num" }, r.tokens_in === undefined ? "—" : `${r.tokens_in} / ${r.tokens_out}`),
  );
}

function renderTail() {
  const body = $("tail").tBodies[0];
  const shown = view.tail.slice(-TAIL_SHOWN).reverse();
  body.replaceChildren(...shown.map(tailRow));
  $("tail-empty").hidden = shown.length > 0;
  $("tail-count").textContent = view.tail.length > 0 ? `(last ${shown.length} of ${view.tail.length} held)` : "";
}

function render() {
  renderTotals();
  renderTargets();
  renderProviders();
}

// ---------------------------------------------------------------- data

async function getJson(url) {
  const res = await fetch(url, { cache: "no-store", credentials: "same-origin", headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

let pollTimer;
let polling = false;
/** A poll was asked for while one was under way: the next comes soon rather than after POLL_MS. */
let again = false;

async function poll() {
  clearTimeout(pollTimer);
  if (polling) {
    again = true;
    return;
  }
  polling = true;
  const [state] = await Promise.allSettled([getJson("/dashboard/state")]);
  if (state.status === "fulfilled") {
    view.upstream = state.value;
    view.upstreamAt = Date.now();
    view.upstreamError = "";
  } else view.upstreamError = state.reason.message;
  // The state carries the metrics report when the gateway records metrics; older gateways only serve /v1/metrics.
  const embedded = state.status === "fulfilled" ? state.value.metrics : undefined;
  const [metrics] = embedded !== undefined ? [{ status: "fulfilled", value: embedded }] : await Promise.allSettled([getJson("/v1/metrics")]);
  polling = false;
  if (metrics.status === "fulfilled" && metrics.value && typeof metrics.value.targets === "object") {
    view.metrics = metrics.value;
    view.metricsError = "";
  } else {
    view.metrics = null;
    view.metricsError = metrics.status === "rejected" ? metrics.reason.message : "unexpected answer";
  }
  render();
  pollTimer = setTimeout(poll, again ? SOON_MS : POLL_MS);
  again = false;
}

function pollSoon() {
  if (polling) {
    again = true;
    return;
  }
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, SOON_MS);
}

function follow() {
  const source = new EventSource("/dashboard/events");
  const conn = $("connection");
  source.onopen = () => {
    conn.dataset.live = "true";
    conn.textContent = "live";
  };
  source.onerror = () => {
    conn.dataset.live = "false";
    conn.textContent = "reconnecting…";
  };
  source.addEventListener("request", (e) => {
    const r = JSON.parse(e.data);
    if (r.seq <= view.lastSeq) return;
    view.lastSeq = r.seq;
    view.tail.push(r);
    if (view.tail.length > TAIL_KEPT) view.tail.splice(0, view.tail.length - TAIL_KEPT);
    scheduleTail();
    if (r.status >= 500 || r.code !== undefined) pollSoon();
  });
}

/** Many events in a burst redraw the tail once. */
let tailFrame = 0;
function scheduleTail() {
  if (tailFrame) return;
  tailFrame = setTimeout(() => {
    tailFrame = 0;
    renderTail();
    if (!view.metrics) render();
  }, 100);
}

document.addEventListener("DOMContentLoaded", () => {
  render();
  renderTail();
  poll();
  follow();
  setInterval(tickCountdowns, 1000);
});
