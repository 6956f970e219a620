/**
 * The normalised configuration the engine runs on. The YAML file (snake_case,
 * durations as strings) is parsed and validated into this shape by ./load.ts;
 * every duration here is in milliseconds and every size in bytes.
 */

export type ProviderType = "openai" | "anthropic" | "gemini" | "azure" | PresetType | "demo";

/** OpenAI-compatible upstreams known by name: the `openai` adapter with their defaults filled in (see ./presets.ts). */
export type PresetType =
  | "openrouter"
  | "deepseek"
  | "groq"
  | "mistral"
  | "together"
  | "fireworks"
  | "xai"
  | "dashscope"
  | "huggingface"
  | "cloudflare"
  | "ollama"
  | "vllm"
  | "lmstudio";

export interface Timeouts {
  /** TCP (and TLS) connection establishment. */
  connect: number;
  /** From sending the request until the response headers arrive. */
  firstByte: number;
  /**
   * `first_byte: auto`: the limit adapts per target to the first-byte times seen
   * (upstream/target-stats.ts); `firstByte` applies until enough have been seen.
   */
  firstByteAuto?: true;
  /** The largest allowed gap between two body chunks. */
  idle: number;
  /** The whole request, retries and fallbacks included. */
  total: number;
}

export interface PoolSettings {
  /** Maximum sockets per upstream origin. */
  connections: number;
  /** How long an idle keep-alive socket is kept open. */
  keepAliveTimeout: number;
  http2: boolean;
}

/**
 * Self-imposed limits on a provider or a target (provider + model): how many
 * upstream calls at once, and how many requests and tokens per minute.
 */
export interface Limits {
  /** Upstream calls in flight at once (a stream counts until it ends); more wait in a FIFO queue. */
  concurrency?: number;
  /** The longest a request waits for a slot or for room in a window, in all; then 503 (slots) or 429 (windows). */
  queueTimeout?: number;
  /** Requests per minute, as a sliding window. */
  rpm?: number;
  /** Tokens per minute (input estimated before the call, reconciled with the usage reported). */
  tpm?: number;
  /** The most requests admitted at once: `burst` per `burst / rpm` minutes, beside the minute's window. */
  burst?: number;
}

export interface ProviderConfig {
  name: string;
  type: ProviderType;
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:9001/v1 */
  baseUrl: string;
  apiKey?: string;
  /** Several keys, used in turn; a key the upstream refuses is benched while the others serve. */
  apiKeys?: string[];
  /** The upstream serves OpenAI's Responses API (OpenAI itself, Azure): Responses requests pass through instead of being translated. */
  responses?: boolean;
  /** Azure only: the `api-version` query parameter, or "v1" for Azure's v1 API. */
  apiVersion?: string;
  /** Whether `GET /v1/models` lists the upstream's own models; default true (false for Azure). */
  listModels?: boolean;
  headers: Record<string, string>;
  timeouts: Timeouts;
  pool: PoolSettings;
  limits?: Limits;
  /** Switched off: no target of it is tried. */
  disabled?: boolean;
  /** The provider's own breaker (reachability), and the default for its targets' breakers; false: none. Absent: the built-in defaults. */
  breaker?: BreakerSettings | false;
  /** Active health checks; absent or false: none run. */
  healthCheck?: HealthCheckSettings | false;
  /** Bounds retries and hedges caused by this provider; false: unbounded. Absent: the built-in defaults. */
  retryBudget?: RetryBudgetSettings | false;
}

/**
 * A circuit breaker: closed → open after `consecutive` failures in a row, or
 * when at least `minRequests` in `window` failed at `failureRate` or more;
 * open for `recovery` (doubling with each repeated trip, up to `maxRecovery`);
 * then half-open, letting `halfOpenProbes` attempts through.
 */
export interface BreakerSettings {
  /** Failures in a row that open it; 0: this trigger is off. */
  consecutive: number;
  /** Share of failed attempts in the window that opens it, in (0, 1]. */
  failureRate: number;
  /** Attempts the window must hold before the rate counts. */
  minRequests: number;
  window: number;
  recovery: number;
  maxRecovery: number;
  halfOpenProbes: number;
  /** Whether an upstream 429 counts as a failure. */
  count429: boolean;
}

export interface HealthCheckSettings {
  /** Between two checks of one provider (each jittered by ±10%). */
  interval: number;
  /** The whole check. */
  timeout: number;
  /** Failed checks in a row that open the provider's breaker. */
  unhealthyThreshold: number;
  /** GET this path (relative to base_url) instead of /models. */
  path?: string;
  /** Probe with a chat request for this model instead; it must answer 2xx. */
  model?: string;
}

/** Retries and hedges caused by one provider: at most `ratio` of its recent requests, but `minPerSecond` always. */
export interface RetryBudgetSettings {
  ratio: number;
  minPerSecond: number;
  /** What "recent" means. */
  window: number;
}

export interface HedgeSettings {
  /** Start a second attempt when the first has no first byte after this many ms, or after the target's recent p95. */
  after: number | "p95";
}

export interface TargetConfig {
  provider: string;
  /** The model name sent upstream. */
  model: string;
  /** Lower tiers are tried first. Default 0. */
  priority: number;
  /** Relative share inside a priority tier. Default 1. */
  weight: number;
  /** Limits of this provider + model, wherever it appears (every model listing it must agree). */
  limits?: Limits;
  /** Switched off in this model: never tried. */
  disabled?: boolean;
  /** Its breaker: the model's settings, else its provider's, else defaults; false: none. Absent: the built-in defaults. */
  breaker?: BreakerSettings | false;
  /** The target's price: its own `cost`, else the `pricing:` entry for "provider/model", else for the model. */
  cost?: Price;
}

/** What a model costs, in currency units (USD, say) per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/** How a model orders its targets for each request (routing/strategies/). */
export type StrategyName = "priority" | "weighted" | "least-busy" | "latency" | "cost";

export interface RetryPolicy {
  /** Total upstream attempts for one request across this model's targets. */
  attempts: number;
  baseDelay: number;
  maxDelay: number;
}

export interface ModelConfig {
  /** The public name clients send as "model". */
  name: string;
  targets: TargetConfig[];
  retry: RetryPolicy;
  /** Other public model names tried in order when every target failed. */
  fallbacks: string[];
  /** A second attempt for a slow first one; absent: none. */
  hedge?: HedgeSettings;
  /** Left out: `priority`. */
  strategy?: StrategyName;
  /** The model's own cache setting: false keeps its answers out of the cache; absent: the top-level one. */
  cache?: false | { ttl?: number };
}

export interface ServerConfig {
  host: string;
  port: number;
  /** Largest accepted request body, in bytes. */
  maxBody: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Worker count for the HTTP front (1 = single process). */
  workers: number;
  /** Gateway keys clients must present; see ./auth.ts in server/. */
  auth: AuthConfig;
  /** Limits on how long a client may take to send a request, and to sit idle between requests. */
  timeouts: ServerTimeouts;
  /** Most client connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** Cross-origin access for browser apps; off (undefined) by default. */
  cors?: CorsConfig;
  /** Compression of responses for clients that accept it; off (undefined) when disabled. */
  compression?: CompressionConfig;
  /** Most upstream calls in flight at once across every provider; more wait in a FIFO queue. */
  maxInFlight?: number;
  /** The admin API's key (server/admin-auth.ts); without one the admin API is off. */
  adminKey?: string;
  /** How log lines are written: JSON (absent) or readable lines for a terminal. */
  logFormat?: "json" | "pretty";
  /** false: no statistics are recorded and /metrics, /v1/metrics and /v1/health are not served. Absent: on. */
  metrics?: boolean;
  /** false: the dashboard's routes are not served. Absent: on. */
  dashboard?: boolean;
  /** On SIGTERM/SIGINT, how long requests and streams under way may run on before they are ended (server/shutdown.ts). */
  shutdownTimeout: number;
  /** Reload the config when its file changes (cli/watch-config.ts). */
  watchConfig: boolean;
}

export interface CorsConfig {
  /** Origins allowed to call the gateway from a browser; "*" allows any. */
  origins: string[];
  /** How long a browser may cache a preflight answer, in ms. */
  maxAge: number;
}

export interface CompressionConfig {
  /** Whole bodies smaller than this go out as they are. */
  minSize: number;
  /** Compress streamed answers too (each event is flushed as it is written). */
  streams: boolean;
}

/**
 * One gateway key. A record rather than a bare string so that per-key
 * budgets and limits can be added beside the secret later.
 */
export interface GatewayKey {
  /** Shown in logs instead of the key itself. */
  name: string;
  key: string;
}

export interface AuthConfig {
  /** Empty: no key is asked for. */
  keys: GatewayKey[];
  /** Serve without keys on a non-loopback address, on purpose. */
  allowUnauthenticated: boolean;
}

export interface ServerTimeouts {
  /** From the connection (or the previous response) until the request headers are complete. */
  headers: number;
  /** From the end of the headers until the body is complete. */
  body: number;
  /** How long an idle keep-alive connection is kept open between requests. */
  keepAlive: number;
}

export interface GatewayConfig {
  server: ServerConfig;
  providers: Record<string, ProviderConfig>;
  models: Record<string, ModelConfig>;
  /** Prices by "provider/model" or by model name, as written under `pricing:` (already applied to each target's `cost`). */
  pricing?: Record<string, Price>;
  /** The response cache and request coalescing; absent: both off. */
  cache?: CacheConfig;
  /** Traces and other telemetry export; absent when none is configured. */
  telemetry?: TelemetryConfig;
  /** Where the config came from: a file path, or "defaults" when built from the environment. */
  source: string;
}

/** The response cache (`cache:`): sizes in bytes, times in ms. */
export interface CacheConfig {
  /** Store complete answers and answer repeats from them. */
  enabled: boolean;
  ttl: number;
  /** The whole cache's bound; least recently used entries go first. */
  maxBytes: number;
  /** Larger answers pass through without being stored. */
  maxEntryBytes: number;
  /** Claim all of maxBytes from the system in a background thread when the first entry is stored, rather than as entries are written. */
  preallocate: boolean;
  /** An SQLite file that keeps entries across restarts; absent: memory only. */
  persist?: string;
  /** Identical requests in flight share one upstream call. */
  coalesce: boolean;
  /** `key`: each gateway key has entries of its own; `shared`: one cache for every caller. */
  scope: "shared" | "key";
}

export interface TelemetryConfig {
  /** OpenTelemetry tracing over OTLP/HTTP; absent (off) unless an endpoint is configured. */
  tracing?: TracingConfig;
}

export interface TracingConfig {
  /** The OTLP/HTTP traces URL spans are posted to (the endpoint with /v1/traces). */
  url: string;
  /** The `service.name` resource attribute. */
  serviceName: string;
  /** Share of new traces recorded, > 0 and ≤ 1; a client's traceparent decides for its own trace. */
  sampleRatio: number;
  /** Headers sent with every export (a collector's credentials, often); never logged. */
  headers: Record<string, string>;
}
