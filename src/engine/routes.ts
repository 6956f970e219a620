import type { BreakerSettings, GatewayConfig, ModelConfig, Price, RetryPolicy, Timeouts } from "../config/types.ts";
import { GatewayError } from "../protocol/errors.ts";
import type { PreparedProvider, ProviderAdapter } from "../providers/types.ts";
import { buildTiers, type TierPlan } from "../routing/plan.ts";
import { type Order, strategyOrder } from "../routing/strategies/index.ts";
import type { ProviderRuntime } from "../upstream/runtime.ts";
import type { TargetView } from "../upstream/target-stats.ts";
import type { Transport } from "../upstream/transport.ts";

/** A target with everything an attempt needs resolved once, at config time. */
export interface PreparedTarget {
  /** "provider/model", as reported in x-switchyard-target. */
  label: string;
  model: string;
  priority: number;
  weight: number;
  /** Its price, for strategy: cost. */
  cost?: Price;
  provider: PreparedProvider;
  adapter: ProviderAdapter;
  transport: Transport;
  timeouts: Timeouts;
  /** Its circuit breaker's settings; false: none; undefined: the built-in defaults. */
  breaker?: BreakerSettings | false;
}

export interface Route {
  name: string;
  plan: TierPlan<PreparedTarget>;
  /** The order in which one request tries the targets, by the model's strategy. */
  order: Order<PreparedTarget>;
  retry: RetryPolicy;
  fallbacks: string[];
  /** The whole request's budget: the longest `timeouts.total` among its targets; 0 when one of them sets none. */
  deadlineMs: number;
}

const MAX_DIRECT_ROUTES = 10_000;

/** Whether a target ("provider/model") is switched off at runtime, itself or its provider (the admin API). */
export type Off = (provider: string, label: string) => boolean;

/** `claude-haiku-*` → /^claude-haiku-.*$/: `*` matches any run of characters, everything else itself. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/**
 * Maps public model names to routes. Configured models come first; a name
 * "provider/model" that matches no configured model routes straight to that
 * provider, so keys found in the environment are usable without a config file.
 */
export class RouteTable {
  readonly #routes = new Map<string, Route>();
  readonly #direct = new Map<string, Route>();
  readonly #providers: Map<string, ProviderRuntime>;
  readonly #defaultRetry: RetryPolicy;
  readonly #publicNames: string[];
  /** Configured names with a `*`, in config order. */
  readonly #patterns: Array<{ re: RegExp; route: Route }> = [];
  /** Live target statistics, for the strategies that read them. */
  readonly #view: TargetView | undefined;
  readonly #off: Off | undefined;

  constructor(config: GatewayConfig, providers: Map<string, ProviderRuntime>, defaultRetry: RetryPolicy, view?: TargetView, off?: Off) {
    this.#providers = providers;
    this.#off = off;
    this.#defaultRetry = defaultRetry;
    this.#view = view;
    for (const model of Object.values(config.models)) {
      const route = this.#build(model);
      this.#routes.set(model.name, route);
      if (model.name.includes("*")) this.#patterns.push({ re: globToRegExp(model.name), route });
    }
    this.#publicNames = [...this.#routes.keys()].filter((n) => !n.includes("*"));
  }

  /**
   * The route for a model name: a configured name, else `provider/model`,
   * else the first configured pattern (`claude-haiku-*`) that matches, in
   * config order. Resolved direct and pattern names are cached (bounded).
   */
  resolve(name: string): Route {
    const route = this.#routes.get(name) ?? this.#direct.get(name) ?? this.#directRoute(name) ?? this.#patternRoute(name);
    if (route === undefined) throw this.notFound(name);
    return route;
  }

  #patternRoute(name: string): Route | undefined {
    for (const p of this.#patterns) {
      if (!p.re.test(name)) continue;
      if (this.#direct.size >= MAX_DIRECT_ROUTES) this.#direct.clear();
      this.#direct.set(name, p.route);
      return p.route;
    }
    return undefined;
  }

  /** Looks up a configured model name (fallbacks only name configured models). */
  get(name: string): Route | undefined {
    return this.#routes.get(name);
  }

  /** A model as `GET /v1/models/{id}` shows it; throws the same 404 as a request for it would. */
  describe(name: string): { id: string; ownedBy: string } {
    const route = this.resolve(name);
    return { id: name, ownedBy: this.#routes.has(name) ? "switchyard" : route.plan.tiers[0]?.[0]?.provider.config.name ?? "switchyard" };
  }

  names(): string[] {
    return this.#publicNames;
  }

  notFound(name: string): GatewayError {
    const names = this.#publicNames;
    const shown = names.slice(0, 50).join(", ") + (names.length > 50 ? `, … (${names.length} in all)` : "");
    const direct = this.#providers.size > 0 ? `; or "<provider>/<model>" with a provider of ${[...this.#providers.keys()].join(", ")}` : "";
    return new GatewayError("SY_ERR_MODEL_NOT_FOUND", `model "${name}" not found; available models: ${shown || "(none)"}${direct}`, {
      param: "model",
    });
  }

  #directRoute(name: string): Route | undefined {
    const slash = name.indexOf("/");
    if (slash <= 0 || slash === name.length - 1) return undefined;
    const provider = this.#providers.get(name.slice(0, slash));
    if (provider === undefined) return undefined;
    const config = provider.prepared.config;
    const target: ModelConfig["targets"][number] = { provider: config.name, model: name.slice(slash + 1), priority: 0, weight: 1 };
    if (config.breaker !== undefined) target.breaker = config.breaker;
    const route = this.#build({
      name,
      targets: [target],
      retry: this.#defaultRetry,
      fallbacks: [],
    });
    if (this.#direct.size >= MAX_DIRECT_ROUTES) this.#direct.clear();
    this.#direct.set(name, route);
    return route;
  }

  #build(model: ModelConfig): Route {
    let deadlineMs = 0;
    let unlimited = false;
    const targets: PreparedTarget[] = [];
    for (const t of model.targets) {
      const runtime = this.#providers.get(t.provider);
      if (runtime === undefined) throw new GatewayError("SY_ERR_CONFIG", `models.${model.name}: unknown provider "${t.provider}"`);
      const timeouts = runtime.prepared.config.timeouts;
      deadlineMs = Math.max(deadlineMs, timeouts.total);
      if (timeouts.total === 0) unlimited = true;
      const label = `${t.provider}/${t.model}`;
      // Switched off, in the config or at runtime: out of the plan, so it costs nothing per request
      // (failover reports a model left with none). Runtime switches rebuild the table.
      if (t.disabled === true || runtime.prepared.config.disabled === true || this.#off?.(t.provider, label) === true) continue;
      const target: PreparedTarget = {
        label,
        model: t.model,
        priority: t.priority,
        weight: t.weight,
        provider: runtime.prepared,
        adapter: runtime.adapter,
        transport: runtime.transport,
        timeouts,
        breaker: t.breaker,
      };
      if (t.cost !== undefined) target.cost = t.cost;
      targets.push(target);
    }
    return {
      name: model.name,
      plan: buildTiers(targets),
      order: strategyOrder(model.strategy, targets, this.#view),
      retry: model.retry,
      fallbacks: model.fallbacks,
      deadlineMs: unlimited ? 0 : deadlineMs,
    };
  }
}
