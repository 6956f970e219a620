/**
 * The config file's scalar values, each a hand-written converter (so every
 * message reads the same and none echoes a secret) that throws an Error whose
 * message is the problem text.
 *
 * Each also carries `input`: the JSON Schema of what the file may hold there
 * before `${VAR}` interpolation. Any scalar may be a string with a reference
 * in it (`port: ${PORT}` is a string until the environment is read), and
 * numbers and booleans may be written as strings, so every one accepts those.
 */

import { MAX_DURATION_MS, parseDuration, parseSize } from "./duration.ts";
import { ACCOUNT_ID } from "./presets.ts";
import { didYouMean } from "./problems.ts";
import { normaliseBaseUrl } from "./url.ts";

export type JsonSchema = Record<string, unknown>;

export interface Convert<T> {
  (v: unknown): T;
  /** The JSON Schema of the value as written in the file. */
  input?: JsonSchema;
}

/** RFC 9110 token characters. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NUMERIC = /^\s*-?(\d+(\.\d+)?|\.\d+)\s*$/;

/**
 * Patterns for the JSON Schema. They mirror the parsers, which ignore case
 * and surrounding spaces, and err on the lenient side: a URL is only checked
 * for its scheme, since WHATWG URL parsing also takes "http:host".
 */
const REFERENCE = "\\$\\{";
const DURATION_TEXT = "^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*([mM][sS]|[sSmMhH])?\\s*$";
const SIZE_TEXT = "^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*([kKmMgG]?[bB])?\\s*$";
const HTTP_URL_TEXT = "^\\s*[hH][tT][tT][pP][sS]?:";

/** A string holding a `${VAR}` reference: its value is only known once the environment is read. */
export const REFERENCE_STRING: JsonSchema = { type: "string", pattern: REFERENCE };

/**
 * A string matching `pattern`, or holding a reference. `patternErrorMessage`
 * is not standard JSON Schema; editors built on yaml-language-server (and
 * VS Code's JSON support) show it instead of the bare regular expression.
 */
export function textOr(pattern: string, expected: string): JsonSchema {
  return { type: "string", pattern: `${pattern}|${REFERENCE}`, patternErrorMessage: `expected ${expected}, or a \${VAR} reference` };
}

function scalar<T>(input: JsonSchema, convert: (v: unknown) => T): Convert<T> {
  return Object.assign(convert, { input });
}

export const text = scalar({ type: "string", minLength: 1 }, (v) => {
  if (typeof v !== "string") throw new Error("expected a string");
  if (v === "") throw new Error("must not be empty");
  return v;
});

/** Long enough not to be guessed, and sendable in a header. The value is never quoted back. */
export const gatewaySecret = scalar(textOr("^[\\x21-\\x7e]{16,}$", "at least 16 printable ASCII characters without spaces"), (v) => {
  if (typeof v !== "string") throw new Error("expected a string");
  if (v.length < 16) throw new Error("must be at least 16 characters long");
  if (!/^[\x21-\x7e]+$/.test(v)) throw new Error("must be printable ASCII without spaces");
  return v;
});

export const secret = scalar({ type: "string" }, (v) => {
  if (typeof v !== "string") throw new Error("expected a string");
  return v;
});

/** Numbers may arrive as strings when they come from `${VAR}`. */
function toNumber(v: unknown, expected: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  throw new Error(`expected ${expected}`);
}

export function integer(min: number, max?: number): Convert<number> {
  const expected = max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  const range = max === undefined ? { minimum: min } : { minimum: min, maximum: max };
  return scalar({ anyOf: [{ type: "integer", ...range }, textOr(NUMERIC.source, "a number")] }, (v) => {
    const n = toNumber(v, expected);
    if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) throw new Error(`expected ${expected}`);
    return n;
  });
}

export const positive = scalar({ anyOf: [{ type: "number", exclusiveMinimum: 0 }, textOr(NUMERIC.source, "a number")] }, (v) => {
  const n = toNumber(v, "a number > 0");
  if (n <= 0) throw new Error("expected a number > 0");
  return n;
});

/** A share: more than 0, at most 1. */
export const fraction = scalar({ anyOf: [{ type: "number", exclusiveMinimum: 0, maximum: 1 }, textOr(NUMERIC.source, "a number")] }, (v) => {
  const n = toNumber(v, "a number > 0 and ≤ 1");
  if (n <= 0 || n > 1) throw new Error("expected a number > 0 and ≤ 1");
  return n;
});

export const bool = scalar({ anyOf: [{ type: "boolean" }, textOr("^(true|false)$", "true or false")] }, (v) => {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new Error("expected true or false");
});

export const duration = scalar({ anyOf: [{ type: "number", minimum: 0, maximum: MAX_DURATION_MS }, textOr(DURATION_TEXT, "a duration such as 250ms, 10s or 5m")] }, (v) => {
  if (typeof v !== "string" && typeof v !== "number") throw new Error("expected a duration such as 250ms, 10s or 5m");
  return parseDuration(v);
});

/** A duration that cannot be 0: a period or a window, where 0 would mean "all the time". */
export const positiveDuration = scalar(
  { anyOf: [{ type: "number", exclusiveMinimum: 0, maximum: MAX_DURATION_MS }, textOr(DURATION_TEXT, "a duration such as 10s or 1m")] },
  (v) => {
    if (typeof v !== "string" && typeof v !== "number") throw new Error("expected a duration such as 10s or 1m");
    const ms = parseDuration(v);
    if (ms < 1) throw new Error("must be at least 1ms");
    return ms;
  },
);

/** A duration above 0, or "p95": a measured percentile. */
export const durationOrP95 = scalar(
  { anyOf: [{ type: "number", minimum: 0, maximum: MAX_DURATION_MS }, textOr(`${DURATION_TEXT}|^p95$`, 'a duration such as 2s, or "p95"')] },
  (v): number | "p95" => {
    if (v === "p95") return v;
    if (typeof v !== "string" && typeof v !== "number") throw new Error('expected a duration such as 2s, or "p95"');
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch {
      throw new Error('expected a duration such as 2s, or "p95"');
    }
    if (ms <= 0) throw new Error("must be longer than 0");
    return ms;
  },
);

/** A duration, or the word `auto` for a limit the gateway adapts itself. */
export const durationOrAuto = scalar({ anyOf: [{ const: "auto" }, ...(duration.input!.anyOf as JsonSchema[])] }, (v): number | "auto" => {
  if (typeof v === "string" && v.trim().toLowerCase() === "auto") return "auto";
  try {
    return duration(v);
  } catch (err) {
    throw new Error(`${(err as Error).message}, or auto`);
  }
});

/** A number ≥ 0, such as a price. */
export const nonNegative = scalar({ anyOf: [{ type: "number", minimum: 0 }, textOr(NUMERIC.source, "a number")] }, (v) => {
  const n = toNumber(v, "a number ≥ 0");
  if (n < 0) throw new Error("expected a number ≥ 0");
  return n;
});

export const size = scalar({ anyOf: [{ type: "number", minimum: 1 }, textOr(SIZE_TEXT, "a size such as 512kb or 10mb")] }, (v) => {
  if (typeof v !== "string" && typeof v !== "number") throw new Error("expected a size such as 512kb or 10mb");
  const bytes = parseSize(v);
  if (bytes < 1) throw new Error("must be at least 1 byte");
  return bytes;
});

export const httpUrl = scalar(textOr(HTTP_URL_TEXT, "an http:// or https:// URL"), (v) => {
  // The value itself is left out: URLs can carry credentials.
  const url = typeof v === "string" ? normaliseBaseUrl(v) : undefined;
  if (url === undefined) throw new Error("expected an http:// or https:// URL");
  return url;
});

/** An http(s) URL, or "" for none: what `${VAR:-}` gives when the variable is unset. */
export const httpUrlOrEmpty = scalar({ anyOf: [{ type: "string", pattern: "^\\s*$" }, textOr(HTTP_URL_TEXT, "an http:// or https:// URL")] }, (v) =>
  typeof v === "string" && v.trim() === "" ? "" : httpUrl(v),
);

/** A web origin as browsers send it (scheme://host[:port], no path), or "*". */
export const origin = scalar(textOr("^\\*$|^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+/*$", 'an origin such as "https://app.example.com", or "*"'), (v) => {
  if (v === "*") return v;
  const url = typeof v === "string" && URL.canParse(v) ? new URL(v) : undefined;
  if (url === undefined || url.origin === "null" || url.origin !== String(v).replace(/\/+$/, "")) {
    throw new Error('expected an origin such as "https://app.example.com" (scheme, host and port only) or "*"');
  }
  return url.origin;
});

export function oneOf<T extends string>(options: readonly T[], what: string): Convert<T> {
  return scalar({ anyOf: [{ enum: [...options] }, REFERENCE_STRING] }, (v) => {
    if (typeof v === "string" && (options as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === "string" ? didYouMean(v, options) : "";
    const shown = typeof v === "string" ? JSON.stringify(v) : String(v);
    throw new Error(`unknown ${what} ${shown}${hint || ` (expected one of: ${options.join(", ")})`}`);
  });
}

/** One of several keys: an empty one would be sent as no key at all. */
export const listedSecret = scalar({ type: "string", minLength: 1 }, (v) => {
  if (typeof v !== "string") throw new Error("expected a string");
  if (v === "") throw new Error("must not be empty");
  return v;
});

/** A value sent as a header: no line breaks. */
export const headerText = scalar(textOr("^[^\\r\\n\\0]+$", "text without line breaks"), (v) => {
  const t = text(v);
  if (/[\r\n\0]/.test(t)) throw new Error("must not contain line breaks");
  return t;
});

/** Azure's `api-version`: a date (`2024-10-21`, `2025-04-01-preview`), or `v1` for the v1 API. */
export const apiVersion = scalar(textOr("^(v1|\\d{4}-\\d{2}-\\d{2}(-preview)?)$", '"v1" or a date such as "2024-10-21"'), (v) => {
  if (typeof v !== "string" || !/^(v1|\d{4}-\d{2}-\d{2}(-preview)?)$/.test(v)) {
    throw new Error('expected "v1" or a dated version such as "2024-10-21" or "2025-04-01-preview"');
  }
  return v;
});

/** Cloudflare's account id, which goes into the URL's path. */
export const accountId = scalar(textOr(ACCOUNT_ID.source, "an account id (letters, digits, - and _)"), (v) => {
  if (typeof v !== "string" || !ACCOUNT_ID.test(v)) throw new Error("expected an account id (letters, digits, - and _)");
  return v;
});
