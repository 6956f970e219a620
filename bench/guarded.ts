/**
 * The settings of the "guarded" gateways, with limits far above what the
 * benchmark can reach, so that only their cost shows, never their effect:
 * "guarded" has the mechanisms the resilience goal names (breakers, active
 * health checks, rpm/tpm limits with token estimation); "guarded-all" has
 * every mechanism on (also concurrency slots, max_in_flight, an adaptive
 * first-byte timeout and a strategy that reads live statistics).
 *
 * The keys are the ones the config reference documents. Whatever this build's
 * config does not know yet is left out rather than failing the run: each
 * candidate is validated on its own, and the target's notes say what was
 * applied and what was not.
 */
import { ConfigError, resolveConfig } from "../src/config/load.ts";

type Block = Record<string, unknown>;

const BREAKER: Block = { consecutive: 5, failure_rate: 0.5, min_requests: 20, window: "60s", recovery: "60s", max_recovery: "10m", half_open_probes: 3 };

/**
 * What the resilience goal prices (the mechanisms its text names): circuit
 * breakers, active health checks, and rpm/tpm limits with token estimation.
 * The retry budget, on by default but not among them, is off as in the bare
 * gateway, so that the two differ by exactly these mechanisms.
 */
export const GUARDED_PROVIDER: Block = {
  breaker: BREAKER,
  health_check: { interval: "10s" },
  limits: { rpm: 1_000_000_000, tpm: 1_000_000_000 },
  retry_budget: false,
};

/**
 * Everything on, for the "guarded-all" gateway: the above with the retry
 * budget at its default, plus concurrency slots with a queue, a gateway-wide
 * max_in_flight, first_byte: auto and a least-busy strategy (the last two
 * read live per-target statistics).
 */
export const ALL_PROVIDER: Block = {
  breaker: BREAKER,
  health_check: { interval: "10s" },
  limits: { concurrency: 8192, queue_timeout: "120s", rpm: 1_000_000_000, tpm: 1_000_000_000 },
  timeouts: { first_byte: "auto" },
};

export const ALL_MODEL: Block = { strategy: "least-busy" };

export const ALL_SERVER: Block = { max_in_flight: 1_000_000 };

/**
 * The "bare" gateway's defaults: every mechanism that is on by default
 * switched off (breakers, retry budgets); health checks, limits, hedging and
 * first_byte: auto are off unless configured. The honest baseline to price
 * the guarded gateway against, since the plain one already runs breakers and
 * budgets.
 */
export const BARE_DEFAULTS: Block = { breaker: false, retry_budget: false };

export interface GuardedSettings {
  provider: Block;
  model: Block;
  server: Block;
  /** Dotted keys applied, and those this build's config refused. */
  applied: string[];
  missing: string[];
}

const PROVIDER_AT = "providers.p.";
const MODEL_AT = "models.m.";
const SERVER_AT = "server.";

function probe(provider: Block, model: Block, server: Block): string[] {
  try {
    resolveConfig(
      {
        server,
        providers: { p: { type: "openai", base_url: "http://127.0.0.1:9/v1", ...provider } },
        models: { m: { targets: ["p/m"], ...model } },
      },
      { env: {}, source: "bench" },
    );
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

/** Removes the value at a dotted path (and parents left empty); false when there was none. */
function remove(block: Block, path: string[]): boolean {
  const [head, ...rest] = path;
  if (!Object.hasOwn(block, head)) return false;
  if (rest.length === 0) {
    delete block[head];
    return true;
  }
  const child = block[head];
  if (typeof child !== "object" || child === null) return false;
  const removed = remove(child as Block, rest);
  if (removed && Object.keys(child).length === 0) delete block[head];
  return removed;
}

function leaves(block: Block, prefix = ""): string[] {
  return Object.entries(block).flatMap(([k, v]) =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? leaves(v as Block, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/**
 * The candidate settings less whatever the config refuses, found by
 * validating them and taking out each key a problem names until none is left.
 */
export function guardedSettings(all = false): GuardedSettings {
  const provider = structuredClone(all ? ALL_PROVIDER : GUARDED_PROVIDER);
  const model = structuredClone(all ? ALL_MODEL : {});
  const server = structuredClone(all ? ALL_SERVER : {});
  const missing: string[] = [];
  for (let round = 0; round < 50; round++) {
    const problems = probe(provider, model, server);
    if (problems.length === 0) break;
    let progress = false;
    for (const problem of problems) {
      const path = problem.slice(0, problem.indexOf(": "));
      for (const [at, block, name] of [[PROVIDER_AT, provider, "providers.NAME."], [MODEL_AT, model, "models.NAME."], [SERVER_AT, server, "server."]] as const) {
        if (!path.startsWith(at)) continue;
        const keys = path.slice(at.length).split(".");
        // A problem inside a value (not an unknown key) takes out the whole setting it belongs to.
        const unknown = problem.endsWith("unknown key") || problem.includes(": unknown key (");
        const cut = unknown ? keys : keys.slice(0, 1);
        if (remove(block, cut)) {
          missing.push(`${name}${cut.join(".")}`);
          progress = true;
        }
      }
    }
    if (!progress) throw new Error(`bench: the guarded settings are refused for reasons it cannot take out:\n${problems.join("\n")}`);
  }
  const applied = [
    ...leaves(provider).map((k) => `providers.NAME.${k}`),
    ...leaves(model).map((k) => `models.NAME.${k}`),
    ...leaves(server).map((k) => `server.${k}`),
  ];
  return { provider, model, server, applied, missing };
}
