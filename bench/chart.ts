/**
 * A hand-written SVG bar chart of the headline figures as ratios to nginx, on
 * a log scale centred on 1× (nginx): bars grow right when a target's figure
 * is larger than nginx's and left when smaller.
 */
import type { ScenarioResult } from "./result-types.ts";

interface Pick {
  scenario: string;
  metric: string;
}

const PICKS: Pick[] = [
  { scenario: "throughput-c64", metric: "rps" },
  { scenario: "throughput-c64", metric: "rps_per_core" },
  { scenario: "latency-c1", metric: "p50" },
  { scenario: "latency-c1", metric: "p99" },
  { scenario: "body-100k", metric: "rps" },
  { scenario: "rate", metric: "p99" },
  { scenario: "stream-20", metric: "ttft_p50" },
  { scenario: "stream-20", metric: "cpu_ms_per_stream" },
  { scenario: "stream-200", metric: "cpu_ms_per_stream" },
  { scenario: "stream-200", metric: "gap_p99" },
  { scenario: "open-1000", metric: "rss_mb" },
  { scenario: "open-5000", metric: "rss_mb" },
  { scenario: "open-5000", metric: "probe_p99" },
];

const COLOURS: Record<string, string> = { direct: "#9e9e9e", switchyard: "#1f77b4", "switchyard-5k": "#7fb8e6", portkey: "#e08a1e" };
const FALLBACK = ["#2ca02c", "#9467bd", "#8c564b", "#d62728"];

const W = 960;
const LABEL_W = 280;
const PLOT_X = LABEL_W + 10;
const PLOT_W = W - PLOT_X - 70;
const BAR_H = 14;
const BAR_GAP = 3;
const GROUP_GAP = 16;
const LOG_MIN = -3; // 1/8×
const LOG_MAX = 4; // 16×

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function x(ratio: number): number {
  const l = Math.min(LOG_MAX, Math.max(LOG_MIN, Math.log2(ratio)));
  return PLOT_X + ((l - LOG_MIN) / (LOG_MAX - LOG_MIN)) * PLOT_W;
}

export function renderChart(scenarios: ScenarioResult[], title: string, subtitle: string): string {
  const groups: { title: string; metric: string; bars: { target: string; ratio: number }[] }[] = [];
  const targetsSeen: string[] = [];
  for (const p of PICKS) {
    const s = scenarios.find((sc) => sc.id === p.scenario);
    const metric = s?.metrics.find((m) => m.key === p.metric);
    if (s === undefined || metric === undefined) continue;
    const bars = s.targets
      .filter((t) => t !== "nginx")
      .map((t) => ({ target: t, ratio: s.ratios[t][p.metric].nginx ?? Number.NaN }))
      .filter((b) => Number.isFinite(b.ratio));
    if (bars.length === 0) continue;
    for (const b of bars) if (!targetsSeen.includes(b.target)) targetsSeen.push(b.target);
    groups.push({ title: s.title, metric: `${metric.label} · ${metric.better} is better`, bars });
  }
  const colour = (t: string) => COLOURS[t] ?? FALLBACK[targetsSeen.indexOf(t) % FALLBACK.length];

  const out: string[] = [];
  let y = 78;
  for (const g of groups) {
    const h = g.bars.length * (BAR_H + BAR_GAP);
    const mid = y + h / 2;
    out.push(`<text x="${LABEL_W}" y="${mid - 2}" text-anchor="end" class="label">${esc(g.title)}</text>`);
    out.push(`<text x="${LABEL_W}" y="${mid + 11}" text-anchor="end" class="metric">${esc(g.metric)}</text>`);
    for (const b of g.bars) {
      const x0 = x(1);
      const x1 = x(b.ratio);
      const left = Math.min(x0, x1);
      const width = Math.max(1, Math.abs(x1 - x0));
      const text = `${b.ratio < 0.1 ? b.ratio.toFixed(3) : b.ratio.toFixed(2)}×`;
      const tx = x1 >= x0 ? x1 + 4 : x1 - 4;
      out.push(`<rect x="${left.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${BAR_H}" fill="${colour(b.target)}"><title>${esc(`${b.target}: ${text} nginx`)}</title></rect>`);
      out.push(`<text x="${tx.toFixed(1)}" y="${y + BAR_H - 3}" text-anchor="${x1 >= x0 ? "start" : "end"}" class="value">${text}</text>`);
      y += BAR_H + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const height = y + 30;
  const ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16];
  const grid = ticks
    .map((t) => {
      const tx = x(t).toFixed(1);
      const label = t < 1 ? `1/${1 / t}×` : `${t}×`;
      return `<line x1="${tx}" y1="66" x2="${tx}" y2="${y}" class="${t === 1 ? "base" : "grid"}"/><text x="${tx}" y="${y + 14}" text-anchor="middle" class="tick">${label}</text>`;
    })
    .join("\n");
  const legend = ["nginx (= 1×)", ...targetsSeen]
    .map((t, i) => {
      const lx = PLOT_X + i * 150;
      const fill = i === 0 ? "#000" : colour(t);
      return `<rect x="${lx}" y="48" width="10" height="10" fill="${fill}"/><text x="${lx + 14}" y="57" class="tick">${esc(t)}</text>`;
    })
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>
  .title { font-size: 16px; font-weight: bold; }
  .sub { font-size: 11px; fill: #555; }
  .label { font-size: 12px; fill: #222; font-weight: bold; }
  .metric { font-size: 11px; fill: #444; }
  .value { font-size: 10px; fill: #222; }
  .tick { font-size: 10px; fill: #555; }
  .grid { stroke: #e3e3e3; stroke-width: 1; }
  .base { stroke: #000; stroke-width: 1.5; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="22" class="title">${esc(title)}</text>
<text x="12" y="38" class="sub">${esc(subtitle)}</text>
${legend}
${grid}
${out.join("\n")}
</svg>
`;
}
