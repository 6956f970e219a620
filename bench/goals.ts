/**
 * The performance targets of the project, checked against a run. Each goal
 * reads medians from the scenario results; a goal whose figures were not
 * measured (scenario or target skipped) is reported as not evaluated.
 */
import type { GoalResult, PassthroughCheck, ScenarioResult } from "./result-types.ts";

type Lookup = (scenario: string, target: string, metric: string) => number | undefined;

function lookup(scenarios: ScenarioResult[]): Lookup {
  return (scenario, target, metric) => {
    const v = scenarios.find((s) => s.id === scenario)?.summary[target]?.[metric]?.median;
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
}

const ms = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(3)} ms`;

function compare(goal: string, a: number | undefined, b: number | undefined, test: (a: number, b: number) => boolean, show: (a: number, b: number) => string): GoalResult {
  if (a === undefined || b === undefined) return { goal, measured: "not measured", met: null };
  return { goal, measured: show(a, b), met: test(a, b) };
}

export function checkGoals(scenarios: ScenarioResult[], passthrough: PassthroughCheck[], gateway: string, large: string, guarded: string, bare: string, cacheMiss = "switchyard-cache-miss"): GoalResult[] {
  const get = lookup(scenarios);
  const openMax = scenarios.filter((s) => s.id.startsWith("open-")).map((s) => Number(s.id.slice(5))).sort((a, b) => b - a)[0];
  const open = openMax === undefined ? "open-5000" : `open-${openMax}`;
  const mine = passthrough.filter((p) => p.target === gateway);
  const goals: GoalResult[] = [
    compare("throughput ≥ 0.6× nginx (non-streaming, c=64)", get("throughput-c64", gateway, "rps"), get("throughput-c64", "nginx", "rps"), (a, b) => a >= 0.6 * b, (a, b) => `${(a / b).toFixed(2)}× (${a.toFixed(0)} vs ${b.toFixed(0)} req/s)`),
    compare("added latency p50 within 0.3 ms of nginx (c=1)", get("latency-c1", gateway, "p50"), get("latency-c1", "nginx", "p50"), (a, b) => a - b <= 0.3, (a, b) => ms(a - b)),
    compare("added latency p99 within 1 ms of nginx (c=1)", get("latency-c1", gateway, "p99"), get("latency-c1", "nginx", "p99"), (a, b) => a - b <= 1, (a, b) => ms(a - b)),
    ...["stream-20", "stream-200"].map((s) =>
      compare(`${s}: added TTFT p50 < 0.5 ms (vs direct)`, get(s, gateway, "ttft_p50"), get(s, "direct", "ttft_p50"), (a, b) => a - b < 0.5, (a, b) => ms(a - b)),
    ),
    ...["stream-20", "stream-200"].map((s) =>
      compare(`${s}: CPU per stream ≤ 1.5× nginx`, get(s, gateway, "cpu_ms_per_stream"), get(s, "nginx", "cpu_ms_per_stream"), (a, b) => a <= 1.5 * b, (a, b) => `${(a / b).toFixed(2)}× (${a.toFixed(3)} vs ${b.toFixed(3)} ms)`),
    ),
    mine.length === 0
      ? { goal: "no byte changed (streams and JSON pass through)", measured: "not measured", met: null }
      : {
          goal: "no byte changed (streams and JSON pass through)",
          measured: mine.every((p) => p.identical) ? `identical in ${mine.length} of ${mine.length} checks` : `differs: ${mine.filter((p) => !p.identical).map((p) => p.flavour).join(", ")}`,
          met: mine.every((p) => p.identical),
        },
    compare(`${open.slice(5)} open streams: RSS < 250 MB`, get(open, gateway, "rss_mb"), 250, (a, b) => a < b, (a) => `${a.toFixed(1)} MB`),
    compare(`${open.slice(5)} open streams: event-loop delay p99 < 20 ms (health latency)`, get(open, gateway, "probe_p99"), 20, (a, b) => a < b, (a) => `${a.toFixed(2)} ms`),
    compare("routing cost flat, 1 → 5,000 targets: req/s within 10% (c=64)", get("throughput-c64", large, "rps"), get("throughput-c64", gateway, "rps"), (a, b) => a >= 0.9 * b, (a, b) => `${(a / b).toFixed(2)}× (${a.toFixed(0)} vs ${b.toFixed(0)} req/s)`),
    compare("routing cost flat, 1 → 5,000 targets: p50 within 10% (c=1)", get("latency-c1", large, "p50"), get("latency-c1", gateway, "p50"), (a, b) => a <= 1.1 * b, (a, b) => `${(a / b).toFixed(2)}× (${a.toFixed(3)} vs ${b.toFixed(3)} ms)`),
    // Per server CPU-second: a round where the load generator or the machine held the server back counts for less.
    compare("breakers, health checks and rpm/tpm limits on: requests per CPU-second within 10% of off (c=64)", get("resilience-c64", guarded, "rps_per_core"), get("resilience-c64", bare, "rps_per_core"), (a, b) => a >= 0.9 * b, (a, b) => `${(a / b).toFixed(2)}× (${a.toFixed(0)} vs ${b.toFixed(0)} req/CPU-s)`),
    compare("cache on but missing: requests per CPU-second within 10% of the cache off (c=64)", get("cache-miss-c64", cacheMiss, "rps_per_core"), get("cache-miss-c64", gateway, "rps_per_core"), (a, b) => a >= 0.9 * b, (a, b) => `${(a / b).toFixed(2)}× (${a.toFixed(0)} vs ${b.toFixed(0)} req/CPU-s)`),
  ];
  return goals;
}
