/**
 * The shape of the user-facing YAML file (snake_case). Validation converts
 * durations to ms and sizes to bytes but leaves defaults and cross-references
 * to ./load.ts, so that "not set" can still be told apart from "set".
 *
 * Every key carries a description, and every value the JSON Schema of what
 * the file may hold there (./scalars.ts): ./json-schema.ts turns both into
 * the schema editors read.
 */

import { z } from "zod";
import { DEFAULTS } from "./defaults.ts";
import { formatDuration as dur, formatSize } from "./duration.ts";
import { AZURE_API_VERSION, isPreset, PRESET_TYPES } from "./presets.ts";
import { didYouMean, problemAt } from "./problems.ts";
import { DEFAULT_BASE_URLS } from "./provider-urls.ts";
import type { PathSegment } from "./problems.ts";
import {
  accountId,
  apiVersion,
  bool,
  duration,
  durationOrAuto,
  durationOrP95,
  fraction,
  gatewaySecret,
  HEADER_NAME,
  headerText,
  httpUrl,
  httpUrlOrEmpty,
  integer,
  listedSecret,
  nonNegative,
  oneOf,
  origin,
  positive,
  positiveDuration,
  secret,
  size,
  text,
  textOr,
} from "./scalars.ts";
import type { Convert, JsonSchema } from "./scalars.ts";
import type { ProviderType, ServerConfig, StrategyName } from "./types.ts";

/** Every provider `type` the gateway can talk to; extend together with ProviderType. */
export const PROVIDER_TYPES = ["openai", "anthropic", "gemini", "azure", ...PRESET_TYPES, "demo"] as const satisfies readonly ProviderType[];
true satisfies [Exclude<ProviderType, (typeof PROVIDER_TYPES)[number]>] extends [never] ? true : "PROVIDER_TYPES misses a ProviderType";

/** Every routing strategy a model may name; extend together with StrategyName. */
export const STRATEGIES = ["priority", "weighted", "least-busy", "latency", "cost"] as const satisfies readonly StrategyName[];
true satisfies [Exclude<StrategyName, (typeof STRATEGIES)[number]>] extends [never] ? true : "STRATEGIES misses a StrategyName";

export const LOG_FORMATS = ["json", "pretty"] as const satisfies readonly NonNullable<ServerConfig["logFormat"]>[];
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const satisfies readonly ServerConfig["logLevel"][];

/** Keys that mean something for one provider type only. */
const TYPE_ONLY_KEYS: Record<string, ProviderType> = {
  api_version: "azure",
  account_id: "cloudflare",
  site_url: "openrouter",
  app_name: "openrouter",
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// --- schema building blocks ---

function field<T>(convert: Convert<T>) {
  return z
    .unknown()
    .meta(convert.input ?? {})
    .transform((v, ctx): T => {
      if (v === undefined || v === null) {
        ctx.addIssue({ code: "custom", message: "required" });
        return z.NEVER;
      }
      try {
        return convert(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    });
}

/** A field that may be left out or left empty (YAML `key:` with no value). */
function optional<T>(convert: Convert<T>) {
  return field(convert).nullish();
}

/** The catch-alls of strict(), so the JSON Schema can say "no other keys" where zod only sees a catch-all. */
const unknownKeyCatchalls = new WeakSet<object>();

/** True for a mapping built by strict(): its JSON Schema allows no other keys. */
export function rejectsUnknownKeys(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def as { type: string; catchall?: object };
  return def.type === "object" && def.catchall !== undefined && unknownKeyCatchalls.has(def.catchall);
}

/** Unknown keys are reported one by one, each with a hint drawn from `known`. */
function unknownKey(known: string[]) {
  const catchall = z.unknown().superRefine((_, ctx) => {
    ctx.addIssue({ code: "custom", message: "unknown key", params: { unknownKey: known } });
  });
  unknownKeyCatchalls.add(catchall);
  return catchall;
}

/** Inputs a preprocessing step accepts besides what its schema describes, for the JSON Schema. */
const alternatives = new WeakMap<object, JsonSchema>();

/** The JSON Schema of another form `schema` accepts as input (a shorthand), if it has one. */
export function alternativeInput(schema: z.core.$ZodType): JsonSchema | undefined {
  return alternatives.get(schema);
}

/**
 * A `when` for cross-field refinements: run only on a mapping whose `fields`
 * passed their own checks. Anything else (YAML null, a scalar, a list) has
 * already been reported by the object check, and the refinement would read
 * properties of it.
 */
function onceValid(...fields: string[]) {
  return (payload: { value: unknown; issues: readonly { path?: readonly PropertyKey[] }[] }): boolean =>
    isPlainObject(payload.value) && !payload.issues.some((issue) => fields.includes(String(issue.path?.[0])));
}

function strict<S extends z.ZodRawShape>(shape: S, expected = "expected a mapping") {
  return z
    .object(shape, { error: (issue) => (issue.input === undefined ? "required" : expected) })
    .catchall(unknownKey(Object.keys(shape)));
}

function mapOf<T extends z.ZodType>(value: T, names: JsonSchema = {}) {
  return z.record(z.string().meta(names), value, { error: () => "expected a mapping" });
}

function listOf<T extends z.ZodType>(item: T) {
  return z.array(item, { error: (issue) => (issue.input == null ? "required" : "expected a list") });
}

const headers = z
  .unknown()
  .meta({
    type: "object",
    propertyNames: { pattern: HEADER_NAME.source, patternErrorMessage: "invalid header name" },
    additionalProperties: { type: "string" },
  })
  .transform((v, ctx): Record<string, string> => {
    if (!isPlainObject(v)) {
      ctx.addIssue({ code: "custom", message: "expected a mapping of header names to values" });
      return z.NEVER;
    }
    const entries: [string, string][] = [];
    for (const [name, value] of Object.entries(v)) {
      // Header values often hold credentials, so none of these messages quote them.
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "invalid header name" });
      else if (typeof value !== "string") ctx.addIssue({ code: "custom", path: [name], message: "expected a string (quote numbers)" });
      else if (/[\r\n\0]/.test(value)) ctx.addIssue({ code: "custom", path: [name], message: "must not contain line breaks" });
      else entries.push([name, value]);
    }
    return Object.fromEntries(entries);
  });

// --- the file ---

const D = DEFAULTS;

const timeouts = strict({
  connect: optional(duration).describe(`TCP and TLS connection set-up, such as 10s; 0 means no limit. Default ${dur(D.timeouts.connect)}.`),
  first_byte: optional(durationOrAuto).describe(
    `From sending the request until the upstream's response headers arrive; 0 means no limit. auto: twice the 95th percentile of each target's recent first-byte times, kept between 10s and 10m; until 20 have been seen, the duration defaults set, else a preset's, else ${dur(D.timeouts.firstByte)}. Default ${dur(D.timeouts.firstByte)}.`,
  ),
  idle: optional(duration).describe(`The largest gap between two body chunks, streams included; 0 means no limit. Default ${dur(D.timeouts.idle)}.`),
  total: optional(duration).describe(
    `The whole client request, retries and fallbacks included; a model uses the longest among its targets' providers. 0 means no limit. Default ${dur(D.timeouts.total)}.`,
  ),
});

const pool = strict({
  connections: optional(integer(1)).describe(`Most sockets open to the upstream's origin at once. Default ${D.pool.connections}.`),
  keepalive_timeout: optional(duration).describe(`How long an idle keep-alive socket stays open. Default ${dur(D.pool.keepAliveTimeout)}.`),
  http2: optional(bool).describe(`Negotiate HTTP/2 with an https:// upstream (by ALPN); http:// upstreams stay on HTTP/1.1. Default ${D.pool.http2}.`),
});

const retry = strict({
  attempts: optional(integer(1)).describe(`Upstream attempts for one request, across the model's targets. Default ${D.retry.attempts}.`),
  base_delay: optional(duration).describe(
    `Backoff before the second attempt; it doubles with each attempt, with full jitter. Default ${dur(D.retry.baseDelay)}.`,
  ),
  max_delay: optional(duration).describe(`The longest backoff between two attempts; not shorter than base_delay. Default ${dur(D.retry.maxDelay)}.`),
}).refine((r) => r.base_delay == null || r.max_delay == null || r.base_delay <= r.max_delay, {
  path: ["max_delay"],
  message: "must not be shorter than base_delay",
  when: onceValid("base_delay", "max_delay"),
});

const limits = strict({
  concurrency: optional(integer(1)).describe("Upstream calls in flight at once (a stream counts until it ends); more wait in a FIFO queue. Default: no limit."),
  queue_timeout: optional(duration).describe(
    `The longest a request waits, in all, for a slot or for room in a rate window; then 503 (slots) or 429 (windows), with Retry-After. 0: never wait. Default ${dur(D.limits.queueTimeout)}.`,
  ),
  rpm: optional(integer(1, 1e9)).describe("Requests per minute, as a sliding window. Default: no limit."),
  tpm: optional(integer(1, 1e9)).describe(
    "Tokens per minute, as a sliding window: input tokens counted with a tokenizer before the call, output added from the usage reported. Default: no limit.",
  ),
  burst: optional(integer(1, 1e9)).describe("With rpm: the most requests admitted at once (burst per burst/rpm minutes). Default: rpm's own window only."),
})
  .refine((l) => l.burst == null || l.rpm != null, { path: ["burst"], message: "needs rpm", when: onceValid("burst", "rpm") })
  .refine((l) => l.burst == null || l.rpm == null || l.burst <= l.rpm, {
    path: ["burst"],
    message: "must not be above rpm",
    when: onceValid("burst", "rpm"),
  });

const B = D.breaker;
const breakerSettings = strict({
  consecutive: optional(integer(0)).describe(`Failures in a row that open the breaker; 0 turns this trigger off. Default ${B.consecutive}.`),
  failure_rate: optional(fraction).describe(
    `The share of failed attempts within the window that opens the breaker, once it holds min_requests. Default ${B.failureRate}.`,
  ),
  min_requests: optional(integer(1)).describe(`Attempts the window must hold before failure_rate counts. Default ${B.minRequests}.`),
  window: optional(positiveDuration).describe(`The sliding window failure_rate looks at. Default ${dur(B.window)}.`),
  recovery: optional(duration).describe(
    `How long an open breaker stays open before letting probes through; doubled with each repeated trip. Default ${dur(B.recovery)}.`,
  ),
  max_recovery: optional(duration).describe(`The longest recovery a repeated trip can reach. Default ${dur(B.maxRecovery)}.`),
  half_open_probes: optional(integer(1)).describe(
    `Attempts let through when half-open: all succeed and it closes, one fails and it opens again. Default ${B.halfOpenProbes}.`,
  ),
  count_429: optional(bool).describe(`Count an upstream 429 as a failure (by default it only slows that target down). Default ${B.count429}.`),
}).refine((b) => b.recovery == null || b.max_recovery == null || b.recovery <= b.max_recovery, {
  path: ["max_recovery"],
  message: "must not be shorter than recovery",
  when: onceValid("recovery", "max_recovery"),
});

/** `breaker: false` turns it off; a mapping tunes it. */
const breaker = z.union([z.literal(false), breakerSettings], { error: () => "expected false or a mapping of breaker settings" });

const HC = D.healthCheck;
const healthCheckSettings = strict({
  interval: optional(positiveDuration).describe(`Between two checks, each jittered by ±10%. Default ${dur(HC.interval)}.`),
  timeout: optional(positiveDuration).describe(`The whole check. Default ${dur(HC.timeout)}.`),
  unhealthy_threshold: optional(integer(1)).describe(`Failed checks in a row that open the provider's breaker. Default ${HC.unhealthyThreshold}.`),
  path: optional(text).describe("GET this path, relative to base_url (such as /health), instead of /models; any 2xx passes."),
  model: optional(text).describe("Probe with a one-token chat request for this model instead; it must answer 2xx, and costs that token."),
});

/** `health_check: true` runs checks with the defaults; a mapping tunes them. */
const healthCheck = z.union([z.boolean(), healthCheckSettings], { error: () => "expected true, false or a mapping of health check settings" });

const RB = D.retryBudget;
const retryBudgetSettings = strict({
  ratio: optional(fraction).describe(`Retries and hedges caused by the provider, as a share of its recent requests. Default ${RB.ratio}.`),
  min_per_second: optional(integer(0)).describe(`Retries and hedges per second allowed whatever the ratio says. Default ${RB.minPerSecond}.`),
  window: optional(positiveDuration).describe(`What counts as recent. Default ${dur(RB.window)}.`),
});

/** `retry_budget: false` lifts the bound; a mapping tunes it. */
const retryBudget = z.union([z.literal(false), retryBudgetSettings], { error: () => "expected false or a mapping of retry budget settings" });

const hedge = strict({
  after: field(durationOrP95).describe(
    'Start a second attempt on another target when the first has no first byte after this long (such as 2s), or after "p95": that target\'s 95th percentile of recent times to first byte.',
  ),
});

const BREAKER_HELP = `A circuit breaker: false turns it off, a mapping tunes it. Defaults: ${B.consecutive} failures in a row, or ${B.failureRate * 100}% of at least ${B.minRequests} attempts in ${dur(B.window)}; open for ${dur(B.recovery)} (up to ${dur(B.maxRecovery)}); ${B.halfOpenProbes} probes.`;
const HEALTH_CHECK_HELP = `Active, token-free health checks: true runs them with the defaults (every ${dur(HC.interval)}), a mapping tunes them. Off unless set.`;
const RETRY_BUDGET_HELP = `Bounds the retries and hedges this provider's failures may cause, so an outage cannot multiply load: false lifts it. Default ${RB.ratio * 100}% of recent requests, at least ${RB.minPerSecond} per second.`;

const TIMEOUTS_HELP = "Upstream timeouts, such as { connect: 10s, first_byte: 60s, idle: 30s, total: 10m }.";
const POOL_HELP = "The connection pool to the upstream's origin. Providers on one origin share a pool, sized by the first of them.";
const RETRY_HELP = "Retries with exponential backoff across the model's targets.";
const LIMITS_HELP = "Self-imposed limits, such as { concurrency: 8, rpm: 500, tpm: 200000 }: a full target is passed over for one with room, else the request waits, up to queue_timeout.";

const provider = strict({
  type: field(oneOf(PROVIDER_TYPES, "provider type")).describe(
    "openai: any OpenAI-compatible API. anthropic: Anthropic's Messages API. gemini: Google's Gemini API (AI Studio keys). azure: Azure OpenAI. A preset (openrouter, deepseek, groq, mistral, together, fireworks, xai, dashscope, huggingface, cloudflare, ollama, vllm, lmstudio): the OpenAI-compatible adapter with that upstream's base URL and timeouts filled in. demo: the built-in provider, no network.",
  ),
  base_url: optional(httpUrl).describe(
    "The upstream's base URL including its version path, such as https://api.openai.com/v1; for azure the resource endpoint, such as https://NAME.openai.azure.com. Required for openai and azure; anthropic (https://api.anthropic.com/v1), gemini (https://generativelanguage.googleapis.com/v1beta) and the presets have their own.",
  ),
  api_key: optional(secret).describe("Sent upstream as Authorization: Bearer … (anthropic: x-api-key; gemini: x-goog-api-key; azure: api-key); never logged. Usually a reference such as ${OPENAI_API_KEY}."),
  api_keys: listOf(field(listedSecret))
    .min(1, { error: "at least one key is required (or leave api_keys out)" })
    .nullish()
    .describe("Several keys, used in turn (after api_key, when both are set); a key the upstream refuses (401, 403) or finds out of quota is benched for a while."),
  api_version: optional(apiVersion).describe(
    `azure only: the api-version of Azure's dated API, or v1 for its v1 API (OpenAI's paths under /openai/v1). Default ${AZURE_API_VERSION}.`,
  ),
  account_id: optional(accountId).describe("cloudflare only: the account id in the Workers AI URL. Default $CLOUDFLARE_ACCOUNT_ID."),
  site_url: optional(headerText).describe("openrouter only: your app's URL, sent as HTTP-Referer for OpenRouter's app attribution."),
  app_name: optional(headerText).describe("openrouter only: your app's name, sent as X-OpenRouter-Title (and X-Title)."),
  list_models: optional(bool).describe(
    "Whether GET /v1/models lists this upstream's own models as provider/model. Default true; false for azure, cloudflare and demo.",
  ),
  headers: headers.nullish().describe("Extra headers sent with every upstream call; each replaces a built-in header of the same name."),
  timeouts: timeouts.nullish().describe(`${TIMEOUTS_HELP} Unset ones come from defaults.timeouts, then the preset's (first_byte 120s for openrouter and huggingface).`),
  pool: pool.nullish().describe(`${POOL_HELP} Unset values come from defaults.pool.`),
  responses: optional(bool).describe(
    "The upstream serves OpenAI's Responses API (OpenAI itself, Azure): POST /v1/responses passes through to it instead of being translated to Chat Completions. Default false.",
  ),
  limits: limits.nullish().describe(`${LIMITS_HELP} For all of the provider's targets together.`),
  disabled: optional(bool).describe("Switch the provider off: none of its targets is tried and it is not health-checked. Default false."),
  breaker: breaker
    .nullish()
    .describe(`${BREAKER_HELP} This one watches whether the provider can be reached at all; its settings are also the default for its targets' breakers.`),
  health_check: healthCheck.nullish().describe(HEALTH_CHECK_HELP),
  retry_budget: retryBudget.nullish().describe(RETRY_BUDGET_HELP),
})
  .refine((p) => p.type === "demo" || isPreset(p.type) || DEFAULT_BASE_URLS[p.type] !== undefined || p.base_url != null, {
    path: ["base_url"],
    error: (issue) => `required for provider type ${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)}`,
    // Only meaningful once `type` itself is known to be valid.
    when: onceValid("type"),
  })
  .superRefine((p, ctx) => {
    // A wrong `type` is reported already; what goes with it cannot be judged.
    if (!isPlainObject(p) || !(PROVIDER_TYPES as readonly string[]).includes(p.type)) return;
    for (const [key, only] of Object.entries(TYPE_ONLY_KEYS)) {
      if (p[key as keyof typeof p] != null && p.type !== only) {
        ctx.addIssue({ code: "custom", path: [key], message: `only for provider type "${only}"` });
      }
    }
  });

const price = strict(
  {
    input: field(nonNegative).describe("Price per million input (prompt) tokens."),
    output: field(nonNegative).describe("Price per million output (completion) tokens."),
  },
  "expected a mapping with input and output, prices per million tokens",
);

const targetObject = strict(
  {
    provider: field(text).describe("The name of a provider under providers."),
    model: field(text).describe("The model name sent upstream."),
    priority: optional(integer(0)).describe(`The target's tier: lower tiers are tried first. Default ${D.target.priority}.`),
    weight: optional(positive).describe(`The target's share of requests within its tier. Default ${D.target.weight}.`),
    limits: limits.nullish().describe(`${LIMITS_HELP} For this provider + model, in every model that lists it.`),
    disabled: optional(bool).describe("Switch the target off in this model: it is never tried. Default false."),
    cost: price.nullish().describe("The target's price per million tokens, { input, output }, for strategy: cost; overrides pricing:."),
  },
  'expected "provider/model" or a mapping with provider and model',
);

/** "provider/model" is shorthand for { provider, model }; the model part may contain more slashes. */
const target = z.preprocess((v, ctx) => {
  if (typeof v !== "string") return v;
  const slash = v.indexOf("/");
  if (slash <= 0 || slash === v.length - 1) {
    ctx.addIssue({ code: "custom", message: `invalid target ${JSON.stringify(v)}: expected "provider/model"` });
    return v;
  }
  return { provider: v.slice(0, slash), model: v.slice(slash + 1) };
}, targetObject);
alternatives.set(target, textOr("^[^/]+/.", '"provider/model"'));

const C = DEFAULTS.cache;
const cache = strict({
  enabled: optional(bool).describe(`Store complete successful answers and answer repeats from them. Default ${C.enabled}.`),
  ttl: optional(duration).describe(`How long an answer is kept. Default ${dur(C.ttl)}.`),
  max_bytes: optional(size).describe(`The cache's size bound (answers and the requests they answer); the least recently used are dropped to stay under it. Default ${formatSize(C.maxBytes)}.`),
  max_entry_bytes: optional(size).describe(`Larger answers pass through without being stored. Default ${formatSize(C.maxEntryBytes)}.`),
  preallocate: optional(bool).describe(
    `Claim all of max_bytes from the system in a background thread when the first entry is stored, so that filling the cache never waits on the system for memory; false: memory is claimed as entries are written. Default ${C.preallocate}.`,
  ),
  persist: optional(text).describe("An SQLite file that keeps the cache across restarts, such as ./switchyard-cache.db. Default: memory only."),
  coalesce: optional(bool).describe("Identical requests in flight at the same time share one upstream call. Default: on when the cache is enabled; may be set alone."),
  scope: optional(oneOf(["shared", "key"] as const, "cache scope")).describe(
    "shared: one cache for everyone who can reach the gateway; key: each gateway key has its own entries. Default shared.",
  ),
});

/** A model's own cache setting: false keeps its answers out; a mapping sets its ttl. */
const modelCache = z.union([z.literal(false), strict({ ttl: optional(duration).describe("How long this model's answers are kept.") })], {
  error: () => "expected false or a mapping with ttl",
});

const model = strict({
  targets: listOf(target)
    .min(1, { error: "at least one target is required" })
    .describe('Where requests for this model go: "provider/model" or { provider, model, priority, weight }. At least one.'),
  retry: retry.nullish().describe(`${RETRY_HELP} Unset values come from defaults.retry.`),
  fallbacks: listOf(field(text).describe("The name of another model under models."))
    .nullish()
    .describe("Other models tried, in order, when every target failed. Cycles are rejected."),
  breaker: breaker.nullish().describe(`${BREAKER_HELP} For each of this model's targets; unset values come from the target's provider.`),
  hedge: hedge.nullish().describe("Hedged requests: a second attempt on another target when the first is slow. Off unless set."),
  strategy: optional(oneOf(STRATEGIES, "strategy")).describe(
    "How each request orders the targets. priority: tiers, weighted random inside each; weighted: weighted random over all; least-busy: fewest requests in flight; latency: lowest average time to first byte, exploring now and then; cost: cheapest first (pricing: or targets[].cost). Default priority.",
  ),
  cache: modelCache.nullish().describe("This model's cache setting: false keeps its answers out of the cache, { ttl } keeps them that long. Default: the top-level cache."),
});

/** A gateway key: the secret alone, or a record naming it (budgets and limits per key will sit beside it). */
const gatewayKey = z.preprocess(
  (v) => (typeof v === "string" ? { key: v } : v),
  strict(
    {
      key: field(gatewaySecret).describe("The key itself: at least 16 printable characters, usually a reference such as ${SWITCHYARD_API_KEY}."),
      name: optional(text).describe("What logs show for requests made with this key. Default key-1, key-2, … by position."),
    },
    "expected a key (a string) or a mapping with key and name",
  ),
);
alternatives.set(gatewayKey, gatewaySecret.input!);

const auth = strict({
  keys: listOf(gatewayKey)
    .nullish()
    .describe("Keys clients must send, as Authorization: Bearer KEY or x-api-key: KEY: each a string or { key, name }. With none, no key is asked for."),
  allow_unauthenticated: optional(bool).describe(
    `Serve on a host beyond loopback without keys; without keys or this, serve refuses to. Default ${D.server.auth.allowUnauthenticated}.`,
  ),
});

const serverTimeouts = strict({
  headers: optional(duration).describe(
    `A client must send its request headers within this, else a 408 and the connection closes; 0 means no limit. Default ${dur(D.server.timeouts.headers)}.`,
  ),
  body: optional(duration).describe(`And its request body within this much more, else a 408; 0 means no limit. Default ${dur(D.server.timeouts.body)}.`),
  keep_alive: optional(duration).describe(
    `An idle keep-alive client connection is closed after this; behind a load balancer, set it above the balancer's idle timeout. Default ${dur(D.server.timeouts.keepAlive)}.`,
  ),
});

const cors = strict({
  origins: listOf(field(origin).describe('An origin such as "https://app.example.com" (scheme, host and port only), or "*".'))
    .min(1, { error: "at least one origin (or \"*\") is required" })
    .describe("Origins whose browser apps may call the gateway; keys are still required."),
  max_age: optional(duration).describe("How long browsers may cache a preflight answer. Default 10m."),
});

/** `compression: false` turns it off; a mapping tunes it. */
const compression = z.union(
  [
    z.literal(false),
    strict({
      min_size: optional(size).describe(`Whole answers at least this large are compressed. Default ${formatSize(D.server.compression!.minSize)}.`),
      streams: optional(bool).describe(`Compress streamed answers too, flushing each event. Default ${D.server.compression!.streams}.`),
    }),
  ],
  { error: () => "expected false or a mapping with min_size and streams" },
);

const server = strict({
  host: optional(text).describe(`The address to listen on (--host overrides). Default ${D.server.host}.`),
  port: optional(integer(0, 65535)).describe(`The port to listen on; 0 picks a free one (--port overrides). Default ${D.server.port}.`),
  max_body: optional(size).describe(`The largest request body accepted, such as 10mb; larger ones get a 413. Default ${formatSize(D.server.maxBody)}.`),
  log_level: optional(oneOf(LOG_LEVELS, "log level")).describe(`The level of the JSON logs on stdout (--log-level overrides). Default ${D.server.logLevel}.`),
  workers: optional(integer(1)).describe(`Worker threads sharing the port (--workers overrides). Default ${D.server.workers}.`),
  auth: auth.nullish().describe("Gateway keys: who may call the gateway."),
  timeouts: serverTimeouts.nullish().describe("How long a client may take to send a request, and stay idle between requests."),
  max_connections: optional(integer(1)).describe(
    `Client connections open at once; more are closed as they arrive. Keep it below the open-file limit. Default ${D.server.maxConnections}.`,
  ),
  cors: cors.nullish().describe("Cross-origin access for browser apps; off when left out."),
  compression: compression
    .nullish()
    .describe("Compression of answers for clients that accept it (gzip, br, deflate): false turns it off, a mapping tunes it. On by default."),
  max_in_flight: optional(integer(1)).describe(
    "Upstream calls in flight at once across every provider; more wait in a FIFO queue (up to the target's limits.queue_timeout). Default: no limit.",
  ),
  shutdown_timeout: optional(duration).describe(
    `On SIGTERM or SIGINT: how long requests and streams under way may run on before they are ended with an error event; /health answers 503 meanwhile. Default ${dur(D.server.shutdownTimeout)}.`,
  ),
  watch_config: optional(bool).describe("Reload the config when its file changes (as on SIGHUP or POST /admin/reload). Default false."),
  admin_key: optional(gatewaySecret).describe(
    "The key of the admin API (/admin/...) and the operator's pages (dashboard, metrics): Authorization: Bearer KEY, x-admin-key: KEY, or a browser's Basic login with it as password. Without one the admin API is off and those pages ask for a gateway key, if any. Usually ${SWITCHYARD_ADMIN_KEY}.",
  ),
  log_format: optional(oneOf(LOG_FORMATS, "log format")).describe("json: one JSON object per line; pretty: readable coloured lines for a terminal. Default json."),
  metrics: optional(bool).describe("Record request statistics and serve /metrics (Prometheus), /v1/metrics and /v1/health; false records nothing. Default true."),
  dashboard: optional(bool).describe("Serve the live dashboard at / and /dashboard; false leaves those paths unanswered (404). Default true."),
});

const defaults = strict({
  timeouts: timeouts.nullish().describe(`${TIMEOUTS_HELP} For every provider that sets none.`),
  pool: pool.nullish().describe(`${POOL_HELP} For every provider that sets none.`),
  retry: retry.nullish().describe(`${RETRY_HELP} For every model that sets none.`),
  breaker: breaker.nullish().describe(`${BREAKER_HELP} For every provider and target whose own settings leave it open.`),
  health_check: healthCheck.nullish().describe(`${HEALTH_CHECK_HELP} For every provider that sets none.`),
  retry_budget: retryBudget.nullish().describe(`${RETRY_BUDGET_HELP} For every provider that sets none.`),
});

const T = D.tracing;
const telemetry = strict({
  otlp_endpoint: optional(httpUrlOrEmpty).describe(
    "The OTLP/HTTP endpoint of an OpenTelemetry collector, such as http://127.0.0.1:4318: setting it turns tracing on, with spans posted as JSON to its /v1/traces. Empty or left out: no tracing, at no cost.",
  ),
  service_name: optional(text).describe(`The service.name the spans carry. Default ${T.serviceName}.`),
  sample_ratio: optional(fraction).describe(
    `The share of new traces recorded, > 0 and ≤ 1; a request with a traceparent follows its sampled flag. Default ${T.sampleRatio}.`,
  ),
  headers: headers.nullish().describe("Headers sent with every export, such as a collector's API key; never logged. Usually references such as ${OTLP_TOKEN}."),
});

export const configSchema = strict({
  server: server.nullish().describe("Where and how the gateway listens."),
  defaults: defaults
    .nullish()
    .describe("Timeouts, pool, retry, breaker, health check and retry budget settings for every provider and model that sets none of its own."),
  providers: mapOf(provider, { pattern: "^[^/]+$", patternErrorMessage: 'provider names must be non-empty and contain no "/"' })
    .nullish()
    .describe('Upstream providers, by name. Targets refer to them, and a request may address one directly as "NAME/model", so a name cannot contain "/".'),
  models: mapOf(model).nullish().describe('The models clients can ask for, by the name they send as "model".'),
  pricing: mapOf(price)
    .nullish()
    .describe('Prices per million tokens, { input, output }, by "provider/model" or by upstream model name, for strategy: cost and the estimated cost in the metrics. A target\'s own cost wins.'),
  cache: cache.nullish().describe("The response cache and request coalescing: off unless enabled. See docs/caching.md."),
  telemetry: telemetry.nullish().describe("OpenTelemetry tracing: a span per request and per upstream attempt, exported over OTLP/HTTP. Off unless otlp_endpoint is set."),
});

/** The validated file: snake_case, ms and bytes, anything left out still null/undefined. */
export type ConfigFile = z.output<typeof configSchema>;

/**
 * A value that may be `false` or a mapping (breaker, compression …) is a
 * union, whose failure zod reports as one issue holding each option's. When
 * only one option got past the value's type (a mapping with a bad key in it),
 * its issues are the ones worth reading, each at its own path.
 */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union") return [issue];
  const deep = issue.errors.filter((option) => option.some((i) => i.path.length > 0));
  if (deep.length !== 1) return [issue];
  return deep[0].flatMap((i) => unwrapUnion({ ...i, path: [...issue.path, ...i.path] }));
}

/** One `path: message` line per zod issue. */
export function schemaProblems(error: z.ZodError): string[] {
  return error.issues.flatMap(unwrapUnion).map((issue) => {
    const path = issue.path as PathSegment[];
    const known = issue.code === "custom" ? issue.params?.unknownKey : undefined;
    if (Array.isArray(known)) return problemAt(path, `unknown key${didYouMean(String(path.at(-1)), known)}`);
    return problemAt(path, issue.message);
  });
}
