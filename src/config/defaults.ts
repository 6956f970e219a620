/**
 * Built-in defaults, in one place, and the configuration used when there is
 * no config file: a demo provider plus one provider per API key found in the
 * environment. Presets' own defaults are in ./presets.ts.
 */

import { ConfigError, problemAt } from "./problems.ts";
import { normaliseBaseUrl, otlpTracesUrl } from "./url.ts";
import type { Env } from "./interpolate.ts";
import { ACCOUNT_ID, CLOUDFLARE_ACCOUNT_VAR, isPreset, PRESETS, presetBaseUrl } from "./presets.ts";
import { DEFAULT_BASE_URLS } from "./provider-urls.ts";
import type {
  BreakerSettings,
  CacheConfig,
  GatewayConfig,
  HealthCheckSettings,
  Limits,
  PoolSettings,
  ProviderConfig,
  ProviderType,
  RetryBudgetSettings,
  RetryPolicy,
  ServerConfig,
  TargetConfig,
  Timeouts,
  TracingConfig,
} from "./types.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const MB = 1024 * 1024;

export interface Defaults {
  readonly server: Readonly<ServerConfig>;
  readonly timeouts: Readonly<Timeouts>;
  readonly pool: Readonly<PoolSettings>;
  readonly retry: Readonly<RetryPolicy>;
  readonly target: Readonly<Pick<TargetConfig, "priority" | "weight">>;
  readonly limits: Readonly<Required<Pick<Limits, "queueTimeout">>>;
  readonly breaker: Readonly<BreakerSettings>;
  /** Used when a provider sets `health_check: true` (checks are off unless asked for). */
  readonly healthCheck: Readonly<HealthCheckSettings>;
  readonly retryBudget: Readonly<RetryBudgetSettings>;
  readonly cache: Readonly<CacheConfig>;
  readonly tracing: Readonly<Pick<TracingConfig, "serviceName" | "sampleRatio">>;
}

/** Every value the gateway assumes when neither the file nor its `defaults:` section sets one (ms, bytes). */
export const DEFAULTS: Defaults = Object.freeze({
  server: Object.freeze({
    host: "127.0.0.1",
    port: 4000,
    maxBody: 10 * MB,
    logLevel: "info",
    workers: 1,
    auth: Object.freeze({ keys: [], allowUnauthenticated: false }),
    timeouts: Object.freeze({ headers: 10 * SECOND, body: 30 * SECOND, keepAlive: 5 * SECOND }),
    maxConnections: 10_000,
    compression: Object.freeze({ minSize: 1024, streams: false }),
    shutdownTimeout: 30 * SECOND,
    watchConfig: false,
  }),
  timeouts: Object.freeze({ connect: 10 * SECOND, firstByte: 60 * SECOND, idle: 30 * SECOND, total: 10 * MINUTE }),
  pool: Object.freeze({ connections: 100, keepAliveTimeout: 5 * MINUTE, http2: false }),
  retry: Object.freeze({ attempts: 3, baseDelay: 250, maxDelay: 8 * SECOND }),
  target: Object.freeze({ priority: 0, weight: 1 }),
  limits: Object.freeze({ queueTimeout: 2 * MINUTE }),
  breaker: Object.freeze({
    consecutive: 5,
    failureRate: 0.5,
    minRequests: 20,
    window: MINUTE,
    recovery: MINUTE,
    maxRecovery: 10 * MINUTE,
    halfOpenProbes: 3,
    count429: false,
  }),
  healthCheck: Object.freeze({ interval: 30 * SECOND, timeout: 5 * SECOND, unhealthyThreshold: 2 }),
  retryBudget: Object.freeze({ ratio: 0.2, minPerSecond: 3, window: 10 * SECOND }),
  // coalesce follows `enabled` unless set (see config/cache.ts).
  cache: Object.freeze({ enabled: false, ttl: 10 * MINUTE, maxBytes: 256 * MB, maxEntryBytes: MB, preallocate: true, coalesce: false, scope: "shared" as const }),
  tracing: Object.freeze({ serviceName: "switchyard", sampleRatio: 1 }),
});

/** A fresh, mutable copy of the server defaults. */
export function defaultServer(): ServerConfig {
  const d = DEFAULTS.server;
  return { ...d, auth: { keys: [], allowUnauthenticated: false }, timeouts: { ...d.timeouts }, compression: { ...d.compression! } };
}

/** Without a config file, SWITCHYARD_API_KEY (when set) is the one gateway key. */
function envAuth(env: Env): ServerConfig["auth"] {
  const key = env.SWITCHYARD_API_KEY;
  return { keys: key ? [{ name: "SWITCHYARD_API_KEY", key }] : [], allowUnauthenticated: false };
}

/** The demo provider needs no network; this placeholder keeps `baseUrl` a non-empty string. */
export const DEMO_BASE_URL = "demo://local";

export interface EnvProvider {
  /** Provider name, and so the prefix of `provider/model` requests routed to it. */
  name: string;
  type: ProviderType;
  /** The variable holding the API key; the provider exists only when it is set. */
  keyVar: string;
  /** The base URL for type `openai`; presets (./presets.ts), anthropic and gemini (./provider-urls.ts) bring their own. */
  baseUrl?: string;
  /** A variable that, when set, replaces the base URL. */
  baseUrlVar?: string;
  /** A variable that must be set as well, or the provider is left out (Cloudflare's account id). */
  alsoVar?: string;
}

/** Upstreams recognised from their API key alone, each as its own type (a preset for the OpenAI-compatible ones). */
export const ENV_PROVIDERS: readonly EnvProvider[] = Object.freeze([
  { name: "openai", type: "openai", keyVar: "OPENAI_API_KEY", baseUrl: "https://api.openai.com/v1", baseUrlVar: "OPENAI_BASE_URL" },
  { name: "anthropic", type: "anthropic", keyVar: "ANTHROPIC_API_KEY" },
  { name: "gemini", type: "gemini", keyVar: "GEMINI_API_KEY" },
  { name: "openrouter", type: "openrouter", keyVar: "OPENROUTER_API_KEY" },
  { name: "deepseek", type: "deepseek", keyVar: "DEEPSEEK_API_KEY" },
  { name: "groq", type: "groq", keyVar: "GROQ_API_KEY" },
  { name: "together", type: "together", keyVar: "TOGETHER_API_KEY" },
  { name: "mistral", type: "mistral", keyVar: "MISTRAL_API_KEY" },
  { name: "fireworks", type: "fireworks", keyVar: "FIREWORKS_API_KEY" },
  { name: "xai", type: "xai", keyVar: "XAI_API_KEY" },
  { name: "dashscope", type: "dashscope", keyVar: "DASHSCOPE_API_KEY" },
  { name: "huggingface", type: "huggingface", keyVar: "HF_TOKEN" },
  // A Cloudflare token alone is common (deploy tools use one); without the account there is no URL.
  { name: "cloudflare", type: "cloudflare", keyVar: "CLOUDFLARE_API_TOKEN", alsoVar: CLOUDFLARE_ACCOUNT_VAR },
] satisfies EnvProvider[]);

/** Provider types whose model list is left out of `GET /v1/models` unless `list_models: true`. */
const UNLISTED: ReadonlySet<ProviderType> = new Set<ProviderType>([
  // Azure lists base models, not the deployments requests name.
  "azure",
  // Cloudflare's catalogue (image, speech and embedding models too) is searched, not listed.
  "cloudflare",
  // The built-in provider's one model is what the `demo` model serves.
  "demo",
]);

/** Whether `GET /v1/models` lists a provider's own models when its config does not say. */
export function listedByDefault(type: ProviderType): boolean {
  return !UNLISTED.has(type);
}

function envProvider(name: string, type: ProviderConfig["type"], baseUrl: string, apiKey?: string): ProviderConfig {
  const timeouts = { ...DEFAULTS.timeouts };
  if (isPreset(type)) timeouts.firstByte = PRESETS[type].firstByteMs;
  const provider: ProviderConfig = {
    name,
    type,
    baseUrl,
    headers: {},
    timeouts,
    pool: { ...DEFAULTS.pool },
  };
  if (apiKey !== undefined) provider.apiKey = apiKey;
  return provider;
}

/** The base URL of an environment provider, or a problem with the variables that make it. */
function envBaseUrl(entry: EnvProvider, env: Env): { url?: string; problem?: string } {
  const override = entry.baseUrlVar === undefined ? undefined : env[entry.baseUrlVar];
  if (entry.baseUrlVar !== undefined && override !== undefined && override !== "") {
    const url = normaliseBaseUrl(override);
    return url === undefined ? { problem: problemAt([entry.baseUrlVar], "expected an http:// or https:// URL") } : { url };
  }
  if (!isPreset(entry.type)) return { url: entry.baseUrl ?? DEFAULT_BASE_URLS[entry.type] };
  const account = entry.alsoVar === undefined ? undefined : env[entry.alsoVar];
  if (account !== undefined && !ACCOUNT_ID.test(account)) {
    return { problem: problemAt([entry.alsoVar!], "expected an account id (letters, digits, - and _)") };
  }
  return { url: presetBaseUrl(entry.type, account) };
}

/**
 * Without a config file, OpenTelemetry's own variables turn tracing on:
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the traces URL itself) or
 * OTEL_EXPORTER_OTLP_ENDPOINT (its /v1/traces), and OTEL_SERVICE_NAME.
 */
function envTracing(env: Env, problems: string[]): TracingConfig | undefined {
  const [name, own] = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true]
    : ["OTEL_EXPORTER_OTLP_ENDPOINT", false];
  const value = env[name];
  if (value === undefined || value.trim() === "") return undefined;
  const url = normaliseBaseUrl(value);
  if (url === undefined) {
    problems.push(problemAt([name], "expected an http:// or https:// URL"));
    return undefined;
  }
  return {
    url: own ? url : otlpTracesUrl(url),
    serviceName: env.OTEL_SERVICE_NAME || DEFAULTS.tracing.serviceName,
    sampleRatio: DEFAULTS.tracing.sampleRatio,
    headers: {},
  };
}

/**
 * The zero-config setup: a `demo` model served by the built-in demo provider,
 * and a provider for every known API key in `env`. Those providers get no
 * models; requests name them directly as `provider/model`.
 */
export function configFromEnv(env: Env): GatewayConfig {
  const providers: Record<string, ProviderConfig> = { demo: envProvider("demo", "demo", DEMO_BASE_URL) };
  const problems: string[] = [];
  for (const entry of ENV_PROVIDERS) {
    const key = env[entry.keyVar];
    if (key === undefined || key === "") continue;
    if (entry.alsoVar !== undefined && !env[entry.alsoVar]) continue;
    const { url, problem } = envBaseUrl(entry, env);
    if (problem !== undefined) problems.push(problem);
    else if (url !== undefined) providers[entry.name] = envProvider(entry.name, entry.type, url, key);
  }
  const tracing = envTracing(env, problems);
  if (problems.length > 0) throw new ConfigError(problems, "invalid config (environment):");
  return {
    ...(tracing === undefined ? {} : { telemetry: { tracing } }),
    server: { ...defaultServer(), auth: envAuth(env), ...(env.SWITCHYARD_ADMIN_KEY ? { adminKey: env.SWITCHYARD_ADMIN_KEY } : {}) },
    providers,
    models: {
      demo: {
        name: "demo",
        targets: [{ provider: "demo", model: "demo-1", ...DEFAULTS.target }],
        retry: { ...DEFAULTS.retry },
        fallbacks: [],
      },
    },
    source: "defaults",
  };
}
