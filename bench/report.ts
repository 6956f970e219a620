/**
 * Human-readable output of a run: per-scenario tables of medians with
 * min–max and ratios to nginx and to direct, the goals, the passthrough check
 * and the profile — as aligned text for the terminal and as Markdown.
 */
import type { GoalResult, MetricDef, PassthroughCheck, ProfileSummary, ScenarioResult } from "./result-types.ts";

export interface ReportInput {
  scenarios: ScenarioResult[];
  goals: GoalResult[];
  passthrough: PassthroughCheck[];
  profiles: ProfileSummary[];
  skipped: { id: string; reason: string }[];
}

const HEAD = ["metric", "target", "median", "min–max", "×nginx", "×direct", "Δnginx"];

export function formatValue(v: number, digits: number): string {
  if (!Number.isFinite(v)) return "—";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratioText(r: number | null): string {
  return r === null ? "—" : `${r.toFixed(2)}×`;
}

function rows(s: ScenarioResult): string[][] {
  const out: string[][] = [];
  for (const m of s.metrics) {
    s.targets.forEach((t, i) => {
      const v = s.summary[t][m.key];
      const r = s.ratios[t][m.key];
      const nginx = s.summary.nginx?.[m.key]?.median;
      const delta = m.unit === "ms" && nginx !== undefined && Number.isFinite(nginx) && Number.isFinite(v.median) ? v.median - nginx : undefined;
      out.push([
        i === 0 ? metricLabel(m) : "",
        t,
        formatValue(v.median, m.digits),
        v.n <= 1 ? "" : `${formatValue(v.min, m.digits)}–${formatValue(v.max, m.digits)}`,
        ratioText(r.nginx),
        ratioText(r.direct),
        delta === undefined ? "" : `${delta >= 0 ? "+" : ""}${delta.toFixed(3)}`,
      ]);
    });
  }
  return out;
}

function metricLabel(m: MetricDef): string {
  return m.unit === "" ? m.label : `${m.label} (${m.unit})`;
}

function align(table: string[][]): string {
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const numeric = (c: number) => c >= 2;
  return table.map((r) => r.map((cell, c) => (numeric(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd()).join("\n");
}

function params(s: ScenarioResult): string {
  return Object.entries(s.params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");
}

function profileLoad(p: ProfileSummary): string {
  return p.load === "throughput"
    ? `c=64 non-streaming load (${p.requests.toLocaleString("en-US")} requests)`
    : `16 concurrent 200-chunk streams (${p.requests.toLocaleString("en-US")} streams)`;
}

function goalMark(g: GoalResult): string {
  return g.met === null ? "n/a " : g.met ? "MET " : "MISS";
}

export function textReport(r: ReportInput): string {
  const parts: string[] = [];
  for (const s of r.scenarios) {
    parts.push(`\n== ${s.id}: ${s.title} (${s.rounds} round${s.rounds === 1 ? "" : "s"}; ${params(s)})\n   ${s.describe}\n`);
    parts.push(align([HEAD, ...rows(s)]).replace(/^/gm, "   "));
    for (const n of s.notes) parts.push(`   note: ${n}`);
  }
  if (r.passthrough.length > 0) {
    parts.push("\n== passthrough: bodies via each target vs direct (ids and timestamps blanked)");
    for (const p of r.passthrough) {
      const diff = p.firstDifference === undefined ? "" : ` first difference at byte ${p.firstDifference.offset}: direct ${p.firstDifference.direct} vs ${p.firstDifference.target}`;
      parts.push(`   ${p.identical ? "identical" : "DIFFERENT"}  ${p.flavour.padEnd(16)} ${p.target.padEnd(16)} ${p.targetBytes} B (direct ${p.directBytes} B)${diff}`);
    }
  }
  for (const p of r.profiles) {
    parts.push(`\n== profile: Switchyard self time under ${profileLoad(p)} (busy ${p.busyPct}% of samples)`);
    for (const g of p.groups) parts.push(`   ${String(g.selfPct).padStart(5)}%  ${g.group}`);
    parts.push("   top functions:");
    for (const e of p.top) parts.push(`   ${String(e.selfPct).padStart(5)}%  ${e.function}  ${e.location}`);
  }
  parts.push("\n== goals");
  for (const g of r.goals) parts.push(`   ${goalMark(g)}  ${g.goal}: ${g.measured}`);
  for (const s of r.skipped) parts.push(`   skipped ${s.id}: ${s.reason}`);
  return `${parts.join("\n")}\n`;
}

function mdTable(table: string[][]): string {
  const [head, ...body] = table;
  const line = (r: string[]) => `| ${r.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(head), `|${head.map((_, i) => (i >= 2 ? "---:" : "---")).join("|")}|`, ...body.map(line)].join("\n");
}

export function markdownReport(r: ReportInput): string {
  const parts: string[] = [];
  parts.push("### Goals\n");
  parts.push(mdTable([["", "goal", "measured"], ...r.goals.map((g) => [g.met === null ? "n/a" : g.met ? "✅ met" : "❌ missed", g.goal, g.measured])]).replace("|---:|", "|---|"));
  for (const s of r.scenarios) {
    parts.push(`\n### ${s.id}: ${s.title}\n\n${s.describe} (${s.rounds} round${s.rounds === 1 ? "" : "s"}; ${params(s)})\n`);
    parts.push(mdTable([HEAD, ...rows(s)]));
    if (s.notes.length > 0) parts.push(`\n${s.notes.map((n) => `- ${n}`).join("\n")}`);
  }
  if (r.passthrough.length > 0) {
    parts.push("\n### Passthrough\n");
    parts.push(
      mdTable([
        ["request", "target", "bytes", "direct bytes", "identical"],
        ...r.passthrough.map((p) => [p.flavour, p.target, String(p.targetBytes), String(p.directBytes), p.identical ? "yes" : `no (byte ${p.firstDifference?.offset})`]),
      ]),
    );
  }
  for (const p of r.profiles) {
    parts.push(`\n### Profile: self time under ${profileLoad(p)}\n`);
    parts.push(mdTable([["share", "group"], ...p.groups.map((g) => [`${g.selfPct}%`, g.group])]));
    parts.push("");
    parts.push(mdTable([["self", "function", "location"], ...p.top.map((e) => [`${e.selfPct}%`, `\`${e.function}\``, e.location])]));
  }
  return `${parts.join("\n")}\n`;
}
