/**
 * Runs one scenario over its targets in interleaved rounds (A B C A B C …)
 * so that drift on the machine hits every target alike, then reduces each
 * figure to median, min and max across rounds, with ratios to nginx and to
 * direct.
 */
import type { Context } from "./context.ts";
import { isStopping } from "./procs.ts";
import type { Ratio, RunOutcome, ScenarioResult } from "./result-types.ts";
import type { Scenario } from "./scenarios.ts";
import { spread } from "./stats.ts";
import type { Target } from "./targets.ts";
import { alive } from "./targets.ts";

function participates(s: Scenario, t: Target): boolean {
  if (s.onlyTargets !== undefined) return s.onlyTargets.includes(t.id);
  return t.flavours.includes(s.flavour) && (!t.largeConfig || s.withLargeConfig) && t.guarded !== true;
}

async function fresh(s: Scenario, t: Target): Promise<void> {
  if (!s.fresh || t.restart === undefined) return;
  await t.restart();
  // Let the new process finish starting up (JIT, lazy init) before it is measured.
  await new Promise((r) => setTimeout(r, 300));
}

function failed(s: Scenario, t: Target, err: unknown): RunOutcome {
  const values = Object.fromEntries(s.metrics.map((m) => [m.key, Number.NaN]));
  const text = err instanceof Error ? err.message : String(err);
  return { values, command: "", notes: [`${t.id}: run failed: ${text.split("\n")[0]}`] };
}

export async function runScenario(ctx: Context, s: Scenario, all: Target[]): Promise<ScenarioResult> {
  const targets = all.filter((t) => participates(s, t));
  const samples: ScenarioResult["samples"] = {};
  const commands: Record<string, string> = {};
  const notes = new Set<string>();
  for (const t of targets) samples[t.id] = Object.fromEntries(s.metrics.map((m) => [m.key, []]));

  if (s.warm !== undefined) {
    for (const t of targets) await s.warm(ctx, t).catch((err: unknown) => notes.add(`${t.id}: warm-up failed: ${String(err).split("\n")[0]}`));
  }
  for (let round = 1; round <= s.rounds; round++) {
    for (const t of targets) {
      if (isStopping()) await new Promise(() => {}); // the signal handler exits the process
      let outcome: RunOutcome;
      if (!alive(t)) {
        outcome = failed(s, t, new Error("a process of this target has exited"));
      } else {
        outcome = await fresh(s, t)
          .then(() => s.run(ctx, t))
          .catch((err: unknown) => failed(s, t, err));
      }
      for (const m of s.metrics) samples[t.id][m.key].push(outcome.values[m.key] ?? Number.NaN);
      if (outcome.command !== "") commands[t.id] = outcome.command;
      for (const n of outcome.notes) notes.add(n);
      const main = s.metrics[0];
      ctx.log(`  ${s.id} round ${round}/${s.rounds} ${t.id.padEnd(16)} ${main.label} ${fmt(outcome.values[main.key])} ${main.unit}`);
    }
  }

  const summary: ScenarioResult["summary"] = {};
  for (const t of targets) summary[t.id] = Object.fromEntries(s.metrics.map((m) => [m.key, spread(samples[t.id][m.key])]));
  const ratios: ScenarioResult["ratios"] = {};
  for (const t of targets) {
    ratios[t.id] = {};
    for (const m of s.metrics) ratios[t.id][m.key] = ratio(summary, t.id, m.key);
  }
  return {
    id: s.id,
    title: s.title,
    describe: s.describe,
    params: s.params,
    rounds: s.rounds,
    metrics: s.metrics,
    targets: targets.map((t) => t.id),
    samples,
    summary,
    ratios,
    commands,
    notes: [...notes],
  };
}

function ratio(summary: ScenarioResult["summary"], target: string, metric: string): Ratio {
  const of = (base: string): number | null => {
    const b = summary[base]?.[metric]?.median;
    const v = summary[target][metric].median;
    return b === undefined || !Number.isFinite(b) || b === 0 || !Number.isFinite(v) ? null : v / b;
  };
  return { nginx: of("nginx"), direct: of("direct") };
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  return v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
