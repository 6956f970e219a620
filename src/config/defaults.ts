/**
 * Built-in defaults, in one place, and the configuration used when there is
 * no config file: a demo provider plus one provider per API key found in the
 * environment.
 */

import { ConfigError, problemAt } from "./problems.ts";
import { normaliseBaseUrl } from "./url.ts";
import type { Env } from "./interpolate.ts";
import type { GatewayConfig, PoolSettings, ProviderConfig, RetryPolicy, ServerConfig, TargetConfig, Timeouts } from "./types.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const MB = 1024 * 1024;

export interface Defaults {
  readonly server: Readonly<ServerConfig>;
  readonly timeouts: Readonly<Timeouts>;
  readonly pool: Readonly<PoolSettings>;
  readonly retry: Readonly<RetryPolicy>;
  readonly target: Readonly<Pick<TargetConfig, "priority" | "weight">>;
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
  }),
  timeouts: Object.freeze({ connect: 10 * SECOND, firstByte: 60 * SECOND, idle: 30 * SECOND, total: 10 * MINUTE }),
  pool: Object.freeze({ connections: 100, keepAliveTimeout: 5 * MINUTE, http2: false }),
  retry: Object.freeze({ attempts: 3, baseDelay: 250, maxDelay: 8 * SECOND }),
  target: Object.freeze({ priority: 0, weight: 1 }),
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
  /** The variable holding the API key; the provider exists only when it is set. */
  keyVar: string;
  baseUrl: string;
  /** A variable that, when set, replaces `baseUrl`. */
  baseUrlVar?: string;
}

/** OpenAI-compatible upstreams recognised from their API key alone. */
export const ENV_PROVIDERS: readonly EnvProvider[] = Object.freeze([
  { name: "openai", keyVar: "OPENAI_API_KEY", baseUrl: "https://api.openai.com/v1", baseUrlVar: "OPENAI_BASE_URL" },
  { name: "openrouter", keyVar: "OPENROUTER_API_KEY", baseUrl: "https://openrouter.ai/api/v1" },
  { name: "deepseek", keyVar: "DEEPSEEK_API_KEY", baseUrl: "https://api.deepseek.com/v1" },
  { name: "groq", keyVar: "GROQ_API_KEY", baseUrl: "https://api.groq.com/openai/v1" },
  { name: "together", keyVar: "TOGETHER_API_KEY", baseUrl: "https://api.together.xyz/v1" },
  { name: "mistral", keyVar: "MISTRAL_API_KEY", baseUrl: "https://api.mistral.ai/v1" },
]);

function envProvider(name: string, type: ProviderConfig["type"], baseUrl: string, apiKey?: string): ProviderConfig {
  const provider: ProviderConfig = {
    name,
    type,
    baseUrl,
    headers: {},
    timeouts: { ...DEFAULTS.timeouts },
    pool: { ...DEFAULTS.pool },
  };
  if (apiKey !== undefined) provider.apiKey = apiKey;
  return provider;
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
    let baseUrl = entry.baseUrl;
    const override = entry.baseUrlVar === undefined ? undefined : env[entry.baseUrlVar];
    if (entry.baseUrlVar !== undefined && override !== undefined && override !== "") {
      const url = normaliseBaseUrl(override);
      if (url === undefined) problems.push(problemAt([entry.baseUrlVar], "expected an http:// or https:// URL"));
      else baseUrl = url;
    }
    providers[entry.name] = envProvider(entry.name, "openai", baseUrl, key);
  }
  if (problems.length > 0) throw new ConfigError(problems, "invalid config (environment):");
  return {
    server: { ...defaultServer(), auth: envAuth(env) },
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
