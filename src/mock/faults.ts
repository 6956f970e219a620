/**
 * The fault grammar shared by the `x-mock-fault` header, `setFault()` and the
 * `--fault` CLI flag: semicolon-separated `key` or `key=value` parts, exactly
 * one of which names the fault, e.g. `status=503;retry-after=2;times=3`.
 */
import { MAX_DURATION_MS } from "../config/duration.ts";

export type FaultKind =
  | "none"
  | "status"
  | "reset"
  | "reset-mid"
  | "stall-headers"
  | "stall-body"
  | "malformed"
  | "error-event"
  | "trickle";

export interface FaultSpec {
  kind: FaultKind;
  /** HTTP status to answer with (kind "status"). */
  status?: number;
  /** Seconds sent as Retry-After (kind "status"). */
  retryAfter?: number;
  /** Good chunks/events sent before the fault strikes (reset-mid, stall-body, malformed, error-event). */
  after?: number;
  /** Milliseconds between pieces (trickle). */
  interval?: number;
  /** Bytes per piece (trickle). */
  size?: number;
  /** Apply to only the next N requests (server-level faults). */
  times?: number;
}

type Param = "retry-after" | "after" | "interval" | "size" | "times";

const KINDS: ReadonlySet<string> = new Set<FaultKind>([
  "none",
  "status",
  "reset",
  "reset-mid",
  "stall-headers",
  "stall-body",
  "malformed",
  "error-event",
  "trickle",
]);

// Which extra keys make sense with which fault, so a typo like `reset;interval=5` is caught, not ignored.
const ALLOWED: Record<FaultKind, readonly Param[]> = {
  none: [],
  status: ["retry-after"],
  reset: [],
  "reset-mid": ["after"],
  "stall-headers": [],
  "stall-body": ["after"],
  malformed: ["after"],
  "error-event": ["after"],
  trickle: ["interval", "size"],
};

const DEFAULT_AFTER: Partial<Record<FaultKind, number>> = {
  "reset-mid": 2,
  "stall-body": 1,
  malformed: 0,
  "error-event": 0,
};

function number(part: string, value: string | undefined, opts: { integer: boolean; min: number; max?: number }): number {
  if (value === undefined || value.trim() === "") throw new Error(`fault part '${part}' needs a value`);
  const n = Number(value);
  const ok = Number.isFinite(n) && (!opts.integer || Number.isInteger(n)) && n >= opts.min && (opts.max === undefined || n <= opts.max);
  if (!ok) {
    const kind = opts.integer ? "an integer" : "a number";
    const range = opts.max === undefined ? `>= ${opts.min}` : `between ${opts.min} and ${opts.max}`;
    throw new Error(`fault part '${part}' must be ${kind} ${range}`);
  }
  return n;
}

export function parseFault(spec: string): FaultSpec {
  const parts = spec
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) throw new Error("empty fault spec");

  let kind: FaultKind | undefined;
  let kindPart = "";
  const out: Omit<FaultSpec, "kind"> = {};
  const params: Array<[Param, string]> = [];

  for (const part of parts) {
    const eq = part.indexOf("=");
    const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : part.slice(eq + 1).trim();

    if (KINDS.has(key)) {
      if (kind !== undefined) throw new Error(`fault spec names two faults: '${kindPart}' and '${part}'`);
      kind = key as FaultKind;
      kindPart = part;
      if (key === "status") out.status = number(part, value, { integer: true, min: 200, max: 599 });
      else if (value !== undefined) throw new Error(`fault part '${part}' takes no value`);
      continue;
    }
    switch (key) {
      case "retry-after":
        // Bounded so the header stays plain digits a client can parse ("1e+21" is no Retry-After).
        out.retryAfter = number(part, value, { integer: false, min: 0, max: MAX_DURATION_MS / 1000 });
        break;
      case "after":
        out.after = number(part, value, { integer: true, min: 0 });
        break;
      case "interval":
        out.interval = number(part, value, { integer: false, min: 0, max: MAX_DURATION_MS });
        break;
      case "size":
        out.size = number(part, value, { integer: true, min: 1 });
        break;
      case "times":
        out.times = number(part, value, { integer: true, min: 1 });
        break;
      default:
        throw new Error(`unknown fault part '${part}' (faults: ${[...KINDS].join(", ")})`);
    }
    params.push([key, part]);
  }

  if (kind === undefined) throw new Error(`fault spec '${spec}' names no fault (one of: ${[...KINDS].join(", ")})`);
  for (const [key, part] of params) {
    if (key !== "times" && !ALLOWED[kind].includes(key)) throw new Error(`fault part '${part}' does not apply to '${kind}'`);
  }

  const result: FaultSpec = { kind, ...out };
  const after = DEFAULT_AFTER[kind];
  if (after !== undefined && result.after === undefined) result.after = after;
  if (kind === "trickle") {
    result.interval ??= 50;
    result.size ??= 16;
  }
  return result;
}
