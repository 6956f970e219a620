/**
 * The shape of the user-facing YAML file (snake_case). Validation converts
 * durations to ms and sizes to bytes but leaves defaults and cross-references
 * to ./load.ts, so that "not set" can still be told apart from "set".
 *
 * Scalars are checked by hand-written converters rather than zod's built-in
 * types so every message reads the same and never echoes a secret value.
 */

import { z } from "zod";
import { parseDuration, parseSize } from "./duration.ts";
import { didYouMean, problemAt } from "./problems.ts";
import type { PathSegment } from "./problems.ts";
import type { ProviderType, ServerConfig } from "./types.ts";

/** Every provider `type` the gateway can talk to; extend together with ProviderType. */
export const PROVIDER_TYPES = ["openai", "demo"] as const satisfies readonly ProviderType[];
true satisfies [Exclude<ProviderType, (typeof PROVIDER_TYPES)[number]>] extends [never] ? true : "PROVIDER_TYPES misses a ProviderType";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const satisfies readonly ServerConfig["logLevel"][];

/** The one provider type that needs no upstream URL. */
const URL_OPTIONAL_TYPE: ProviderType = "demo";

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NUMERIC = /^\s*-?(\d+(\.\d+)?|\.\d+)\s*$/;

/** An http(s) URL without trailing slashes, or undefined when `v` isn't one. */
export function normaliseBaseUrl(v: string): string | undefined {
  const trimmed = v.trim();
  if (!URL.canParse(trimmed)) return undefined;
  const { protocol } = new URL(trimmed);
  if (protocol !== "http:" && protocol !== "https:") return undefined;
  return trimmed.replace(/\/+$/, "");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// --- scalar converters: throw an Error whose message is the problem text ---

type Convert<T> = (v: unknown) => T;

function text(v: unknown): string {
  if (typeof v !== "string") throw new Error("expected a string");
  if (v === "") throw new Error("must not be empty");
  return v;
}

/** Long enough not to be guessed, and sendable in a header. The value is never quoted back. */
function gatewaySecret(v: unknown): string {
  if (typeof v !== "string") throw new Error("expected a string");
  if (v.length < 16) throw new Error("must be at least 16 characters long");
  if (!/^[\x21-\x7e]+$/.test(v)) throw new Error("must be printable ASCII without spaces");
  return v;
}

function secret(v: unknown): string {
  if (typeof v !== "string") throw new Error("expected a string");
  return v;
}

/** Numbers may arrive as strings when they come from `${VAR}`. */
function toNumber(v: unknown, expected: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  throw new Error(`expected ${expected}`);
}

function integer(min: number, max?: number): Convert<number> {
  const expected = max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return (v) => {
    const n = toNumber(v, expected);
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) throw new Error(`expected ${expected}`);
    return n;
  };
}

function positive(v: unknown): number {
  const n = toNumber(v, "a number > 0");
  if (n <= 0) throw new Error("expected a number > 0");
  return n;
}

function bool(v: unknown): boolean {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new Error("expected true or false");
}

function duration(v: unknown): number {
  if (typeof v !== "string" && typeof v !== "number") throw new Error("expected a duration such as 250ms, 10s or 5m");
  return parseDuration(v);
}

function size(v: unknown): number {
  if (typeof v !== "string" && typeof v !== "number") throw new Error("expected a size such as 512kb or 10mb");
  const bytes = parseSize(v);
  if (bytes < 1) throw new Error("must be at least 1 byte");
  return bytes;
}

function httpUrl(v: unknown): string {
  // The value itself is left out: URLs can carry credentials.
  const url = typeof v === "string" ? normaliseBaseUrl(v) : undefined;
  if (url === undefined) throw new Error("expected an http:// or https:// URL");
  return url;
}

/** A web origin as browsers send it (scheme://host[:port], no path), or "*". */
function origin(v: unknown): string {
  if (v === "*") return v;
  const url = typeof v === "string" && URL.canParse(v) ? new URL(v) : undefined;
  if (url === undefined || url.origin === "null" || url.origin !== String(v).replace(/\/+$/, "")) {
    throw new Error('expected an origin such as "https://app.example.com" (scheme, host and port only) or "*"');
  }
  return url.origin;
}

function oneOf<T extends string>(options: readonly T[], what: string): Convert<T> {
  return (v) => {
    if (typeof v === "string" && (options as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === "string" ? didYouMean(v, options) : "";
    const shown = typeof v === "string" ? JSON.stringify(v) : String(v);
    throw new Error(`unknown ${what} ${shown}${hint || ` (expected one of: ${options.join(", ")})`}`);
  };
}

// --- schema building blocks ---

function field<T>(convert: Convert<T>) {
  return z.unknown().transform((v, ctx): T => {
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

/** Unknown keys are reported one by one, each with a hint drawn from `known`. */
function unknownKey(known: string[]) {
  return z.unknown().superRefine((_, ctx) => {
    ctx.addIssue({ code: "custom", message: "unknown key", params: { unknownKey: known } });
  });
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

function mapOf<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value, { error: () => "expected a mapping" });
}

function listOf<T extends z.ZodType>(item: T) {
  return z.array(item, { error: (issue) => (issue.input == null ? "required" : "expected a list") });
}

const headers = z.unknown().transform((v, ctx): Record<string, string> => {
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

const timeouts = strict({
  connect: optional(duration),
  first_byte: optional(duration),
  idle: optional(duration),
  total: optional(duration),
});

const pool = strict({
  connections: optional(integer(1)),
  keepalive_timeout: optional(duration),
  http2: optional(bool),
});

const retry = strict({
  attempts: optional(integer(1)),
  base_delay: optional(duration),
  max_delay: optional(duration),
}).refine((r) => r.base_delay == null || r.max_delay == null || r.base_delay <= r.max_delay, {
  path: ["max_delay"],
  message: "must not be shorter than base_delay",
  when: onceValid("base_delay", "max_delay"),
});

const provider = strict({
  type: field(oneOf(PROVIDER_TYPES, "provider type")),
  base_url: optional(httpUrl),
  api_key: optional(secret),
  headers: headers.nullish(),
  timeouts: timeouts.nullish(),
  pool: pool.nullish(),
}).refine((p) => p.type === URL_OPTIONAL_TYPE || p.base_url != null, {
  path: ["base_url"],
  error: (issue) => `required for provider type ${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)}`,
  // Only meaningful once `type` itself is known to be valid.
  when: onceValid("type"),
});

const targetObject = strict(
  {
    provider: field(text),
    model: field(text),
    priority: optional(integer(0)),
    weight: optional(positive),
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

const model = strict({
  targets: listOf(target).min(1, { error: "at least one target is required" }),
  retry: retry.nullish(),
  fallbacks: listOf(field(text)).nullish(),
});

/** A gateway key: the secret alone, or a record naming it (budgets and limits per key will sit beside it). */
const gatewayKey = z.preprocess(
  (v) => (typeof v === "string" ? { key: v } : v),
  strict({ key: field(gatewaySecret), name: optional(text) }, "expected a key (a string) or a mapping with key and name"),
);

const auth = strict({
  keys: listOf(gatewayKey).nullish(),
  allow_unauthenticated: optional(bool),
});

const serverTimeouts = strict({
  headers: optional(duration),
  body: optional(duration),
  keep_alive: optional(duration),
});

const cors = strict({
  origins: listOf(field(origin)).min(1, { error: "at least one origin (or \"*\") is required" }),
  max_age: optional(duration),
});

/** `compression: false` turns it off; a mapping tunes it. */
const compression = z.union([z.literal(false), strict({ min_size: optional(size), streams: optional(bool) })], {
  error: () => "expected false or a mapping with min_size and streams",
});

const server = strict({
  host: optional(text),
  port: optional(integer(0, 65535)),
  max_body: optional(size),
  log_level: optional(oneOf(LOG_LEVELS, "log level")),
  workers: optional(integer(1)),
  auth: auth.nullish(),
  timeouts: serverTimeouts.nullish(),
  max_connections: optional(integer(1)),
  cors: cors.nullish(),
  compression: compression.nullish(),
});

export const configSchema = strict({
  server: server.nullish(),
  defaults: strict({ timeouts: timeouts.nullish(), pool: pool.nullish(), retry: retry.nullish() }).nullish(),
  providers: mapOf(provider).nullish(),
  models: mapOf(model).nullish(),
});

/** The validated file: snake_case, ms and bytes, anything left out still null/undefined. */
export type ConfigFile = z.output<typeof configSchema>;

/** One `path: message` line per zod issue. */
export function schemaProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path as PathSegment[];
    const known = issue.code === "custom" ? issue.params?.unknownKey : undefined;
    if (Array.isArray(known)) return problemAt(path, `unknown key${didYouMean(String(path.at(-1)), known)}`);
    return problemAt(path, issue.message);
  });
}
