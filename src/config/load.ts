/**
 * From a YAML file (or an already-parsed value) to the normalised
 * GatewayConfig: interpolate, validate, cross-check, then fill in defaults.
 */

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { configFromEnv, DEFAULTS, DEMO_BASE_URL } from "./defaults.ts";
import { interpolate } from "./interpolate.ts";
import { DEFAULT_BASE_URLS } from "./provider-urls.ts";
import type { Env } from "./interpolate.ts";
import { ACCOUNT_ID, AZURE_API_VERSION, CLOUDFLARE_ACCOUNT_VAR, isPreset, PRESETS, presetBaseUrl, presetHeaders } from "./presets.ts";
import { ConfigError, problemAt } from "./problems.ts";
import { checkReferences } from "./references.ts";
import { configSchema, schemaProblems } from "./schema.ts";
import type { ConfigFile } from "./schema.ts";
import { otlpTracesUrl } from "./url.ts";
import { parseYaml } from "./yaml.ts";
import { cacheConfig } from "./cache.ts";
import type {
  BreakerSettings,
  GatewayConfig,
  HealthCheckSettings,
  Limits,
  ModelConfig,
  PoolSettings,
  Price,
  ProviderConfig,
  RetryBudgetSettings,
  RetryPolicy,
  TargetConfig,
  Timeouts,
  TracingConfig,
} from "./types.ts";

export { ConfigError };

/** Looked for in the working directory, in this order, when no path is given. */
export const CONFIG_FILE_NAMES = ["switchyard.yaml", "switchyard.yml"] as const;

export interface ResolveOptions {
  /** Variables for `${VAR}` references; defaults to process.env. */
  env?: Env;
  /** Where `raw` came from, shown in errors and kept as GatewayConfig.source. */
  source?: string;
}

export interface LoadOptions {
  /** A config file to use, relative to `cwd`; it must exist. */
  path?: string;
  env?: Env;
  cwd?: string;
}

type Shared = NonNullable<ConfigFile["defaults"]>;
type Layer<K extends keyof Shared> = NonNullable<Shared[K]> | null | undefined;

/** The first value that was actually set, most specific layer first. */
function first<T>(values: (T | null | undefined)[], fallback: T): T {
  for (const value of values) if (value !== undefined && value !== null) return value;
  return fallback;
}

/** `presetFirstByte` sits between what the file sets and the built-in default. */
function timeouts(own: Layer<"timeouts">, shared: Layer<"timeouts">, presetFirstByte?: number): Timeouts {
  const d = DEFAULTS.timeouts;
  const firstByte = first([own?.first_byte, shared?.first_byte, presetFirstByte], d.firstByte);
  const out: Timeouts = {
    connect: first([own?.connect, shared?.connect], d.connect),
    // auto starts from the value that would otherwise apply: a duration set under defaults, a preset's, else the built-in one.
    firstByte: firstByte === "auto" ? first([shared?.first_byte === "auto" ? undefined : shared?.first_byte, presetFirstByte], d.firstByte) : firstByte,
    idle: first([own?.idle, shared?.idle], d.idle),
    total: first([own?.total, shared?.total], d.total),
  };
  if (firstByte === "auto") out.firstByteAuto = true;
  return out;
}

/** A target's price: its own, else the table's entry for "provider/model", else for the model name. */
function priceOf(own: Price | null | undefined, pricing: Record<string, Price> | null | undefined, provider: string, model: string): Price | undefined {
  if (own != null) return own;
  if (pricing == null) return undefined;
  return Object.hasOwn(pricing, `${provider}/${model}`) ? pricing[`${provider}/${model}`] : Object.hasOwn(pricing, model) ? pricing[model] : undefined;
}

function pool(own: Layer<"pool">, shared: Layer<"pool">): PoolSettings {
  const d = DEFAULTS.pool;
  return {
    connections: first([own?.connections, shared?.connections], d.connections),
    keepAliveTimeout: first([own?.keepalive_timeout, shared?.keepalive_timeout], d.keepAliveTimeout),
    http2: first([own?.http2, shared?.http2], d.http2),
  };
}

function retry(own: Layer<"retry">, shared: Layer<"retry">): RetryPolicy {
  const d = DEFAULTS.retry;
  return {
    attempts: first([own?.attempts, shared?.attempts], d.attempts),
    baseDelay: first([own?.base_delay, shared?.base_delay], d.baseDelay),
    maxDelay: first([own?.max_delay, shared?.max_delay], d.maxDelay),
  };
}

/**
 * Settings that can be switched off (`false`) or tuned (a mapping) at several
 * layers, most specific first. The most specific layer that is set decides
 * whether the mechanism is on; a value it leaves out comes from the next
 * mapping down, then the built-in default. Undefined when no layer is set,
 * so the engine applies the built-in defaults and the normalised config
 * stays as small as the file.
 */
function layered<T extends object, S>(
  layers: (T | boolean | null | undefined)[],
  build: (pick: <K extends keyof T>(key: K) => NonNullable<T[K]> | undefined) => S,
): S | false | undefined {
  const set = layers.filter((l): l is T | boolean => l !== undefined && l !== null);
  if (set.length === 0) return undefined;
  if (set[0] === false) return false;
  const maps = set.filter((l): l is T => typeof l === "object");
  return build((key) => {
    for (const m of maps) if (m[key] !== undefined && m[key] !== null) return m[key] as NonNullable<T[typeof key]>;
    return undefined;
  });
}

type BreakerFile = Exclude<NonNullable<Shared["breaker"]>, false>;
type HealthCheckFile = Exclude<NonNullable<Shared["health_check"]>, boolean>;
type RetryBudgetFile = Exclude<NonNullable<Shared["retry_budget"]>, false>;

function breaker(layers: (BreakerFile | false | null | undefined)[]): BreakerSettings | false | undefined {
  const d = DEFAULTS.breaker;
  return layered(layers, (pick) => ({
    consecutive: pick("consecutive") ?? d.consecutive,
    failureRate: pick("failure_rate") ?? d.failureRate,
    minRequests: pick("min_requests") ?? d.minRequests,
    window: pick("window") ?? d.window,
    recovery: pick("recovery") ?? d.recovery,
    // A recovery set above the default cap raises the cap with it.
    maxRecovery: pick("max_recovery") ?? Math.max(d.maxRecovery, pick("recovery") ?? 0),
    halfOpenProbes: pick("half_open_probes") ?? d.halfOpenProbes,
    count429: pick("count_429") ?? d.count429,
  }));
}

function healthCheck(layers: (HealthCheckFile | boolean | null | undefined)[]): HealthCheckSettings | undefined {
  const d = DEFAULTS.healthCheck;
  const settings = layered(layers, (pick): HealthCheckSettings => {
    const out: HealthCheckSettings = {
      interval: pick("interval") ?? d.interval,
      timeout: pick("timeout") ?? d.timeout,
      unhealthyThreshold: pick("unhealthy_threshold") ?? d.unhealthyThreshold,
    };
    const path = pick("path");
    const model = pick("model");
    if (path !== undefined) out.path = path.startsWith("/") ? path : `/${path}`;
    if (model !== undefined) out.model = model;
    return out;
  });
  return settings === false ? undefined : settings;
}

function retryBudget(layers: (RetryBudgetFile | false | null | undefined)[]): RetryBudgetSettings | false | undefined {
  const d = DEFAULTS.retryBudget;
  return layered(layers, (pick) => ({
    ratio: pick("ratio") ?? d.ratio,
    minPerSecond: pick("min_per_second") ?? d.minPerSecond,
    window: pick("window") ?? d.window,
  }));
}

type ProviderFile = NonNullable<ConfigFile["providers"]>[string];

/** Cloudflare's account id: the provider's own, else the environment's. */
function accountIdOf(p: ProviderFile, env: Env): string | undefined {
  if (p.type !== "cloudflare") return undefined;
  return p.account_id ?? (env[CLOUDFLARE_ACCOUNT_VAR] || undefined);
}

/** What a valid file can still get wrong: a Cloudflare provider with no account to put in its URL. */
function presetProblems(file: ConfigFile, env: Env): string[] {
  const problems: string[] = [];
  for (const [name, p] of Object.entries(file.providers ?? {})) {
    if (p.type !== "cloudflare" || p.base_url != null) continue;
    const account = accountIdOf(p, env);
    if (account === undefined) {
      problems.push(problemAt(["providers", name, "account_id"], `required for provider type "cloudflare" without base_url (or set ${CLOUDFLARE_ACCOUNT_VAR})`));
    } else if (!ACCOUNT_ID.test(account)) {
      problems.push(problemAt([CLOUDFLARE_ACCOUNT_VAR], "expected an account id (letters, digits, - and _)"));
    }
  }
  return problems;
}

type LimitsFile = NonNullable<ProviderFile["limits"]>;

/** The limits that are set, or undefined when none is (so an unlimited target costs nothing). */
function limits(own: LimitsFile | null | undefined): Limits | undefined {
  if (own == null) return undefined;
  const out: Limits = {};
  if (own.concurrency != null) out.concurrency = own.concurrency;
  if (own.queue_timeout != null) out.queueTimeout = own.queue_timeout;
  if (own.rpm != null) out.rpm = own.rpm;
  if (own.tpm != null) out.tpm = own.tpm;
  if (own.burst != null) out.burst = own.burst;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A target's limits belong to its provider + model, so two models that set them must agree. */
function targetLimitProblems(config: GatewayConfig): string[] {
  const seen = new Map<string, { model: string; json: string }>();
  const problems: string[] = [];
  for (const m of Object.values(config.models)) {
    m.targets.forEach((t, i) => {
      if (t.limits === undefined) return;
      const label = `${t.provider}/${t.model}`;
      const json = JSON.stringify(t.limits);
      const first = seen.get(label);
      if (first === undefined) seen.set(label, { model: m.name, json });
      else if (first.json !== json) {
        problems.push(problemAt(["models", m.name, "targets", i, "limits"], `differ from those of ${label} in models.${first.model}; a target's limits are shared by every model that lists it`));
      }
    });
  }
  return problems;
}

/** `api_key` and `api_keys` together, in that order, each key once. */
function keysOf(p: ProviderFile): Pick<ProviderConfig, "apiKey" | "apiKeys"> {
  const out: Pick<ProviderConfig, "apiKey" | "apiKeys"> = {};
  if (p.api_key) out.apiKey = p.api_key;
  if (p.api_keys != null) out.apiKeys = [...new Set([...(p.api_key ? [p.api_key] : []), ...p.api_keys])];
  return out;
}

function provider(name: string, p: ProviderFile, shared: ConfigFile["defaults"], env: Env): ProviderConfig {
  const preset = isPreset(p.type) ? PRESETS[p.type] : undefined;
  const presetUrl = isPreset(p.type) ? presetBaseUrl(p.type, accountIdOf(p, env)) : undefined;
  const extra = isPreset(p.type) ? presetHeaders(p.type, { siteUrl: p.site_url ?? undefined, appName: p.app_name ?? undefined }) : {};
  const out: ProviderConfig = {
    name,
    type: p.type,
    baseUrl: p.base_url ?? presetUrl ?? DEFAULT_BASE_URLS[p.type] ?? DEMO_BASE_URL,
    ...keysOf(p),
    // The file's own headers come last, so they replace a preset's of the same name.
    headers: { ...extra, ...(p.headers ?? {}) },
    timeouts: timeouts(p.timeouts, shared?.timeouts, preset?.firstByteMs),
    pool: pool(p.pool, shared?.pool),
  };
  if (p.type === "azure") out.apiVersion = p.api_version ?? AZURE_API_VERSION;
  // Left unset when not given: listedByDefault(type) decides.
  if (p.list_models != null) out.listModels = p.list_models;
  if (p.responses === true) out.responses = true;
  const l = limits(p.limits);
  if (l !== undefined) out.limits = l;
  if (p.disabled === true) out.disabled = true;
  const ownBreaker = breaker([p.breaker, shared?.breaker]);
  if (ownBreaker !== undefined) out.breaker = ownBreaker;
  const check = healthCheck([p.health_check, shared?.health_check]);
  if (check !== undefined) out.healthCheck = check;
  const budget = retryBudget([p.retry_budget, shared?.retry_budget]);
  if (budget !== undefined) out.retryBudget = budget;
  return out;
}

/** Tracing is on only with an endpoint; an empty one (an unset `${VAR:-}`) leaves it off. */
function tracing(t: ConfigFile["telemetry"]): TracingConfig | undefined {
  if (t?.otlp_endpoint == null || t.otlp_endpoint === "") return undefined;
  return {
    url: otlpTracesUrl(t.otlp_endpoint),
    serviceName: t.service_name ?? DEFAULTS.tracing.serviceName,
    sampleRatio: t.sample_ratio ?? DEFAULTS.tracing.sampleRatio,
    headers: { ...t.headers },
  };
}

function normalise(file: ConfigFile, source: string, env: Env): GatewayConfig {
  const shared = file.defaults;
  const server = file.server;
  const d = DEFAULTS.server;

  const providers = Object.entries(file.providers ?? {}).map(([name, p]): [string, ProviderConfig] => [name, provider(name, p, shared, env)]);
  const traces = tracing(file.telemetry);

  const models = Object.entries(file.models ?? {}).map(([name, m]): [string, ModelConfig] => {
    const model: ModelConfig = {
      name,
      targets: m.targets.map((t) => {
        const target: TargetConfig = {
          provider: t.provider,
          model: t.model,
          priority: t.priority ?? DEFAULTS.target.priority,
          weight: t.weight ?? DEFAULTS.target.weight,
        };
        const l = limits(t.limits);
        if (l !== undefined) target.limits = l;
        if (t.disabled === true) target.disabled = true;
        const own = breaker([m.breaker, file.providers?.[t.provider]?.breaker, shared?.breaker]);
        if (own !== undefined) target.breaker = own;
        const cost = priceOf(t.cost, file.pricing, t.provider, t.model);
        if (cost !== undefined) target.cost = { ...cost };
        return target;
      }),
      retry: retry(m.retry, shared?.retry),
      fallbacks: m.fallbacks ?? [],
    };
    if (m.hedge) model.hedge = { after: m.hedge.after };
    if (m.strategy != null) model.strategy = m.strategy;
    if (m.cache != null) model.cache = m.cache === false ? false : m.cache.ttl == null ? {} : { ttl: m.cache.ttl };
    return [name, model];
  });

  return {
    server: {
      host: server?.host ?? d.host,
      port: server?.port ?? d.port,
      maxBody: server?.max_body ?? d.maxBody,
      logLevel: server?.log_level ?? d.logLevel,
      workers: server?.workers ?? d.workers,
      auth: {
        keys: (server?.auth?.keys ?? []).map((k, i) => ({ name: k.name ?? `key-${i + 1}`, key: k.key })),
        allowUnauthenticated: server?.auth?.allow_unauthenticated ?? false,
      },
      timeouts: {
        headers: server?.timeouts?.headers ?? d.timeouts.headers,
        body: server?.timeouts?.body ?? d.timeouts.body,
        keepAlive: server?.timeouts?.keep_alive ?? d.timeouts.keepAlive,
      },
      maxConnections: server?.max_connections ?? d.maxConnections,
      shutdownTimeout: server?.shutdown_timeout ?? d.shutdownTimeout,
      watchConfig: server?.watch_config ?? d.watchConfig,
      ...(server?.max_in_flight != null ? { maxInFlight: server.max_in_flight } : {}),
      ...(server?.admin_key != null ? { adminKey: server.admin_key } : {}),
      ...(server?.log_format != null ? { logFormat: server.log_format } : {}),
      ...(server?.metrics != null ? { metrics: server.metrics } : {}),
      ...(server?.dashboard != null ? { dashboard: server.dashboard } : {}),
      ...(server?.cors ? { cors: { origins: server.cors.origins, maxAge: server.cors.max_age ?? 600_000 } } : {}),
      ...(server?.compression === false
        ? {}
        : {
            compression: {
              minSize: server?.compression?.min_size ?? d.compression!.minSize,
              streams: server?.compression?.streams ?? d.compression!.streams,
            },
          }),
    },
    // fromEntries keeps a provider or model called "__proto__" an ordinary entry.
    providers: Object.fromEntries(providers),
    models: Object.fromEntries(models),
    ...cacheConfig(file.cache),
    ...(file.pricing == null ? {} : { pricing: Object.fromEntries(Object.entries(file.pricing).map(([k, p]) => [k, { ...p }])) }),
    ...(traces === undefined ? {} : { telemetry: { tracing: traces } }),
    source,
  };
}

/** Validates a parsed config value and returns the normalised config, or throws a ConfigError listing every problem. */
export function resolveConfig(raw: unknown, opts: ResolveOptions = {}): GatewayConfig {
  const header = opts.source === undefined ? "invalid config:" : `invalid config (${opts.source}):`;
  // An empty YAML file parses to null; treat it as an empty mapping.
  const env = opts.env ?? process.env;
  const interpolated = interpolate(raw ?? {}, env);
  const problems = [...interpolated.problems];
  // A value whose variable was missing is already reported; its knock-on schema error would only be noise.
  const alreadyReported = (problem: string) =>
    interpolated.problemPaths.some((path) => problem.startsWith(`${path}: `));
  const parsed = configSchema.safeParse(interpolated.value);
  if (!parsed.success) problems.push(...schemaProblems(parsed.error).filter((p) => !alreadyReported(p)));
  problems.push(...checkReferences(interpolated.value));
  if (parsed.success) problems.push(...presetProblems(parsed.data, env));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems, header);
  const config = normalise(parsed.data, opts.source ?? "inline", env);
  problems.push(...targetLimitProblems(config));
  if (problems.length > 0) throw new ConfigError(problems, header);
  return config;
}

/** The file's text, or undefined when it doesn't exist. */
async function readConfigFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new ConfigError([`${file}: cannot read (${code ?? (err as Error).message})`], "cannot load config:");
  }
}

async function fromFile(file: string, text: string, env: Env): Promise<GatewayConfig> {
  return resolveConfig(parseYaml(text, file), { env, source: file });
}

/**
 * Loads the config from `opts.path`, else $SWITCHYARD_CONFIG, else
 * ./switchyard.yaml or ./switchyard.yml; with none of those, builds one from
 * the environment (see configFromEnv).
 */
export async function loadConfig(opts: LoadOptions = {}): Promise<GatewayConfig> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const named = opts.path || env.SWITCHYARD_CONFIG || undefined;
  if (named !== undefined) {
    const file = resolve(cwd, named);
    const text = await readConfigFile(file);
    if (text === undefined) throw new ConfigError([`${file}: file not found`], "cannot load config:");
    return fromFile(file, text, env);
  }
  for (const name of CONFIG_FILE_NAMES) {
    const file = resolve(cwd, name);
    const text = await readConfigFile(file);
    if (text !== undefined) return fromFile(file, text, env);
  }
  return configFromEnv(env);
}
