import type { GatewayConfig } from "../config/types.ts";
import { GatewayError } from "../protocol/errors.ts";

/** A runtime switch on a provider or a target: off for new requests; draining also reports until its in-flight ones end. */
export type Switch = "disabled" | "draining";

/** How one provider or target stands, for GET /admin/targets. */
export type TargetState = "enabled" | "disabled" | "draining" | "drained";

/**
 * Providers ("openai") and targets ("openai/gpt-4o") switched off at runtime
 * by the admin API. Routing reads them only when a route table is built
 * (engine/routes.ts), so they cost nothing per request; a change rebuilds
 * the current generation's routes.
 */
export class Switches {
  readonly #on = new Map<string, Switch>();
  /** Handed to the route table: whether this target or its provider is switched off. */
  readonly off = (provider: string, label: string): boolean => this.#on.size > 0 && (this.#on.has(provider) || this.#on.has(label));

  get(name: string): Switch | undefined {
    return this.#on.get(name);
  }

  set(name: string, to: Switch | "enabled"): void {
    if (to === "enabled") this.#on.delete(name);
    else this.#on.set(name, to);
  }

  entries(): Array<[string, Switch]> {
    return [...this.#on];
  }

  /**
   * After a reload: a switch stays unless the new config changes what it
   * names. A provider's switch goes when its provider entry changed or is
   * gone; a target's when its provider changed, or the target entries that
   * name it (in any model) changed, or none is left. Returns the names dropped.
   */
  carry(old: GatewayConfig, next: GatewayConfig): string[] {
    const dropped: string[] = [];
    for (const name of [...this.#on.keys()]) {
      const slash = name.indexOf("/");
      const provider = slash === -1 ? name : name.slice(0, slash);
      let same = sameJson(old.providers[provider], next.providers[provider]) && next.providers[provider] !== undefined;
      if (same && slash !== -1) {
        const entries = targetEntries(next, name);
        same = entries.length > 0 && sameJson(targetEntries(old, name), entries);
      }
      if (!same) {
        this.#on.delete(name);
        dropped.push(name);
      }
    }
    return dropped;
  }
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every model's entry for the target `label`, by model name. */
function targetEntries(config: GatewayConfig, label: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const m of Object.values(config.models)) for (const t of m.targets) if (`${t.provider}/${t.model}` === label) out.push([m.name, t]);
  return out;
}

/** The configured targets' labels, in config order. */
export function configuredTargets(config: GatewayConfig): Map<string, { provider: string; model: string; disabled: boolean }> {
  const out = new Map<string, { provider: string; model: string; disabled: boolean }>();
  for (const m of Object.values(config.models)) {
    for (const t of m.targets) {
      const label = `${t.provider}/${t.model}`;
      const off = t.disabled === true || config.providers[t.provider]?.disabled === true;
      const seen = out.get(label);
      // Disabled only where every model that lists it has it switched off.
      if (seen === undefined) out.set(label, { provider: t.provider, model: t.model, disabled: off });
      else seen.disabled &&= off;
    }
  }
  return out;
}

/** A name from a request path, quoted in an error: cut short. */
const quoted = (name: string) => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);

/** The name a switch or a breaker reset applies to, checked against the config: a 404 naming it when unknown. */
export function knownName(config: GatewayConfig, provider: string, model?: string): string {
  if (config.providers[provider] === undefined) {
    throw new GatewayError("SY_ERR_NOT_FOUND", `unknown provider ${quoted(provider)}; configured providers: ${Object.keys(config.providers).join(", ") || "(none)"}`);
  }
  if (model === undefined) return provider;
  const label = `${provider}/${model}`;
  if (!configuredTargets(config).has(label)) {
    throw new GatewayError("SY_ERR_NOT_FOUND", `unknown target ${quoted(label)}: no model of the config routes to it`);
  }
  return label;
}

/** The settings a reload cannot change, which need a restart: `server` (all but max_in_flight, which the limits apply) and `cache`. */
export function serverRestartKeys(old: GatewayConfig, next: GatewayConfig): string[] {
  const keys = new Set([...Object.keys(old.server), ...Object.keys(next.server)]);
  const changed: string[] = [];
  for (const k of keys) {
    if (k === "maxInFlight") continue;
    if (!sameJson(old.server[k as keyof typeof old.server], next.server[k as keyof typeof next.server])) {
      changed.push(`server.${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
    }
  }
  // The response cache is built once, with the engine.
  if (!sameJson(old.cache, next.cache)) changed.push("cache");
  // So is tracing (its exporter and the fronts' reading of traceparent).
  if (!sameJson(old.telemetry, next.telemetry)) changed.push("telemetry");
  return changed;
}
