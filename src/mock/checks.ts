/**
 * What the mock accepts. A value it cannot serve gets a 400 in OpenAI's shape
 * before any work starts; the messages and codes follow OpenAI's own wording.
 */
import { MAX_DURATION_MS, parseDuration } from "../config/duration.ts";
import { MAX_CHOICES, MAX_DIMENSIONS, MAX_EMBEDDING_INPUTS, MAX_EMBEDDING_VALUES, MAX_REPLY_TOKENS } from "./limits.ts";
import { DEFAULT_DIMENSIONS, embeddingInputs } from "./openai-wire.ts";

export interface Problem {
  status: number;
  message: string;
  param: string | null;
  code: string;
}

export interface Knobs {
  latencyMs: number;
  ttftMs: number;
  tps: number;
  tokens: number;
}

const bad = (message: string, param: string | null, code: string): Problem => ({ status: 400, message, param, code });

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a decimal";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}

/** null counts as absent, as it does for OpenAI. */
const given = (v: unknown): boolean => v !== undefined && v !== null;

function integer(body: Record<string, unknown>, param: string, min: number, max?: number): Problem | undefined {
  const v = body[param];
  if (!given(v)) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    return bad(`Invalid type for '${param}': expected an integer, but got ${kind(v)} instead.`, param, "invalid_type");
  }
  if (v < min) {
    return bad(`Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${v} instead.`, param, "integer_below_min_value");
  }
  if (max !== undefined && v > max) {
    return bad(`Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${v} instead.`, param, "integer_above_max_value");
  }
  return undefined;
}

function typed(body: Record<string, unknown>, param: string, ok: (v: unknown) => boolean, expected: string, required = false): Problem | undefined {
  const v = body[param];
  if (!given(v)) return required ? bad(`Missing required parameter: '${param}'.`, param, "missing_required_parameter") : undefined;
  if (ok(v)) return undefined;
  return bad(`Invalid type for '${param}': expected ${expected}, but got ${kind(v)} instead.`, param, "invalid_type");
}

const isString = (v: unknown): boolean => typeof v === "string";
const isObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);

function checkEmbeddings(body: Record<string, unknown>): Problem | undefined {
  const input = body.input;
  if (!given(input)) return bad("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  if (Array.isArray(input) && input.length === 0) return bad("Invalid 'input': empty array. Expected an array with at least one item.", "input", "invalid_value");
  const items = embeddingInputs(input);
  if (items === undefined) {
    return bad(`Invalid type for 'input': expected a string, an array of strings or an array of token arrays, but got ${kind(input)} instead.`, "input", "invalid_type");
  }
  if (items.length > MAX_EMBEDDING_INPUTS) {
    return bad(`Invalid 'input': array too long. Expected at most ${MAX_EMBEDDING_INPUTS} items, but got ${items.length} instead.`, "input", "invalid_value");
  }
  const problem = integer(body, "dimensions", 1, MAX_DIMENSIONS);
  if (problem !== undefined) return problem;
  const dims = given(body.dimensions) ? (body.dimensions as number) : DEFAULT_DIMENSIONS;
  if (items.length * dims > MAX_EMBEDDING_VALUES) {
    return bad(
      `Invalid 'dimensions': ${items.length} inputs × ${dims} dimensions is more than the ${MAX_EMBEDDING_VALUES} values the mock makes in one request.`,
      "dimensions",
      "invalid_value",
    );
  }
  const format = body.encoding_format;
  if (given(format) && format !== "float" && format !== "base64") {
    return bad(`Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`, "encoding_format", "invalid_value");
  }
  return undefined;
}

/** The first problem with a request body on one of the mock's POST routes, in the fields the mock reads. */
export function checkBody(route: "chat" | "completions" | "embeddings", body: Record<string, unknown>): Problem | undefined {
  const model = typed(body, "model", isString, "a string", true);
  if (model !== undefined) return model;
  if (route === "embeddings") return checkEmbeddings(body);
  return (
    (route === "chat"
      ? typed(body, "messages", Array.isArray, "an array", true)
      : typed(body, "prompt", (v) => typeof v === "string" || Array.isArray(v), "a string or an array", true)) ??
    typed(body, "stream", (v) => typeof v === "boolean", "a boolean") ??
    typed(body, "stream_options", isObject, "an object") ??
    integer(body, "n", 1, MAX_CHOICES) ??
    integer(body, "max_tokens", 1) ??
    integer(body, "max_completion_tokens", 1)
  );
}

const headerProblem = (name: string, raw: string, expected: string): Problem =>
  bad(`Header ${name} must be ${expected}, got '${raw}'.`, null, "mock_bad_header");

/** The server's knobs with the `x-mock-*` header overrides applied, or the first bad header. */
export function applyHeaders(defaults: Knobs, header: (name: string) => string | undefined): Knobs | Problem {
  const knobs = { ...defaults };
  for (const [name, key] of [["x-mock-latency", "latencyMs"], ["x-mock-ttft", "ttftMs"]] as const) {
    const raw = header(name);
    if (raw === undefined) continue;
    try {
      knobs[key] = parseDuration(raw);
    } catch {
      return headerProblem(name, raw, `a duration up to ${MAX_DURATION_MS} ms, like 150, 50ms or 2s`);
    }
  }
  const tps = header("x-mock-tps");
  if (tps !== undefined) {
    const n = Number(tps);
    if (tps.trim() === "" || !Number.isFinite(n) || n < 0) return headerProblem("x-mock-tps", tps, "a non-negative number");
    knobs.tps = n;
  }
  const tokens = header("x-mock-tokens");
  if (tokens !== undefined) {
    const n = Number(tokens);
    if (tokens.trim() === "" || !Number.isInteger(n) || n < 0 || n > MAX_REPLY_TOKENS) {
      return headerProblem("x-mock-tokens", tokens, `an integer from 0 to ${MAX_REPLY_TOKENS}`);
    }
    knobs.tokens = n;
  }
  return knobs;
}

/** Throws a RangeError naming the first server option past its bounds. */
export function checkOptions(o: Knobs & { maxBodyBytes: number }): void {
  const fail = (name: string, v: number, expected: string): never => {
    throw new RangeError(`mock option ${name} must be ${expected}, got ${v}`);
  };
  for (const [name, v] of [["latencyMs", o.latencyMs], ["ttftMs", o.ttftMs]] as const) {
    if (!(v >= 0 && v <= MAX_DURATION_MS)) fail(name, v, `between 0 and ${MAX_DURATION_MS}`);
  }
  if (!(Number.isFinite(o.tps) && o.tps >= 0)) fail("tokensPerSecond", o.tps, "a non-negative number");
  if (!(Number.isInteger(o.tokens) && o.tokens >= 0 && o.tokens <= MAX_REPLY_TOKENS)) fail("tokens", o.tokens, `an integer from 0 to ${MAX_REPLY_TOKENS}`);
  if (!(Number.isSafeInteger(o.maxBodyBytes) && o.maxBodyBytes > 0)) fail("maxBodyBytes", o.maxBodyBytes, "a positive integer");
}
