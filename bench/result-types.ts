/** The shapes written to bench/results/<date>.json and read by the report. */
import type { Spread } from "./stats.ts";

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  better: "higher" | "lower";
  /** Decimal places when printed. */
  digits: number;
}

/** What one measured run of one target produced. */
export interface RunOutcome {
  values: Record<string, number>;
  command: string;
  notes: string[];
}

export interface Ratio {
  /** This target's median over nginx's median (null when nginx did not run). */
  nginx: number | null;
  direct: number | null;
}

export interface ScenarioResult {
  id: string;
  title: string;
  describe: string;
  params: Record<string, unknown>;
  rounds: number;
  metrics: MetricDef[];
  /** Target ids in run order. */
  targets: string[];
  /** samples[target][metric][round] */
  samples: Record<string, Record<string, number[]>>;
  summary: Record<string, Record<string, Spread>>;
  ratios: Record<string, Record<string, Ratio>>;
  /** One load command per target (the last round's). */
  commands: Record<string, string>;
  notes: string[];
}

export interface PassthroughCheck {
  flavour: string;
  target: string;
  directBytes: number;
  targetBytes: number;
  /** Equal after blanking the mock's random ids and timestamps. */
  identical: boolean;
  firstDifference?: { offset: number; direct: string; target: string };
}

export interface ProfileEntry {
  function: string;
  location: string;
  selfMs: number;
  /** Share of the non-idle samples. */
  selfPct: number;
}

export interface ProfileSummary {
  load: "throughput" | "streams";
  durationS: number;
  busyPct: number;
  requests: number;
  top: ProfileEntry[];
  /** Self time grouped as gateway code, undici, node internals, GC, other. */
  groups: { group: string; selfPct: number }[];
  command: string;
  files: string[];
}

export interface GoalResult {
  goal: string;
  measured: string;
  /** null when the figures needed were not measured. */
  met: boolean | null;
}
