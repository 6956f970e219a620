/**
 * Switchyard config files for the benchmark, written as JSON (which YAML
 * accepts). Every mock flavour is a provider plus a model of the same name, so
 * the body a client sends is the same whichever target it goes to.
 */
import type { Flavour } from "./flavours.ts";
import { FLAVOURS } from "./flavours.ts";
import { BARE_DEFAULTS, type GuardedSettings } from "./guarded.ts";

export interface GatewayConfigOptions {
  port: number;
  workers: number;
  /** Base URL (with /v1) of each mock flavour. */
  mocks: Record<Flavour, string>;
  /** Extra models m0000… each with `targetsPerModel` targets spread over `extraProviders` providers, all on the plain mock. */
  extraModels: number;
  targetsPerModel: number;
  extraProviders: number;
  /** Resilience settings added to every provider, model and the server (bench/guarded.ts). */
  guarded?: GuardedSettings;
  /** The top-level `cache:` section (bench/cache-scenarios.ts). */
  cache?: Record<string, unknown>;
  /** Every mechanism off, those on by default included (bench/guarded.ts: BARE_DEFAULTS). */
  bare?: boolean;
}

/** Pool large enough that thousands of concurrent streams are never queued inside the gateway. */
const POOL_CONNECTIONS = 8192;

export function extraModelName(i: number): string {
  return `m${String(i).padStart(4, "0")}`;
}

export function gatewayConfig(o: GatewayConfigOptions): string {
  const providers: Record<string, object> = {};
  const models: Record<string, object> = {};
  const g = o.guarded;
  for (const f of FLAVOURS) {
    providers[f] = { type: "openai", base_url: o.mocks[f], api_key: "bench", ...g?.provider };
    models[f] = { targets: [{ provider: f, model: f }], ...g?.model };
  }
  const extra = (k: number) => `p${String(k).padStart(2, "0")}`;
  if (o.extraModels > 0) {
    for (let k = 0; k < o.extraProviders; k++) providers[extra(k)] = { type: "openai", base_url: o.mocks.plain, api_key: "bench" };
    for (let i = 0; i < o.extraModels; i++) {
      const targets = [];
      for (let t = 0; t < o.targetsPerModel; t++) targets.push({ provider: extra((i + t) % o.extraProviders), model: "plain" });
      models[extraModelName(i)] = { targets };
    }
  }
  const config = {
    server: { host: "127.0.0.1", port: o.port, log_level: "silent", workers: o.workers, ...g?.server },
    defaults: { pool: { connections: POOL_CONNECTIONS }, ...(o.bare === true ? BARE_DEFAULTS : {}) },
    providers,
    models,
    ...(o.cache === undefined ? {} : { cache: o.cache }),
  };
  return `${JSON.stringify(config, null, 1)}\n`;
}
