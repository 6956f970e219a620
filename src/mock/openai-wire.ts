/**
 * OpenAI wire payloads for the mock upstream, also exported for tests that
 * build expected bytes. Pure functions only. Streaming events are built by
 * string concatenation around a once-serialised envelope because benchmarks
 * call these at tens of thousands of requests per second.
 */

import { MAX_DIMENSIONS, MAX_EMBEDDING_VALUES, MAX_REPLY_TOKENS } from "./limits.ts";

export interface WireMeta {
  id: string;
  created: number;
  model: string;
}

const GREETING = ["Hello", " from", " the", " Switchyard", " mock."];
const FILLER = [" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog."];
const DEFAULT_COUNT = 12;

// Replies are slices of one long precomputed list, so the common case allocates a single array.
const PRECOMPUTED_COUNT = 256;
const PRECOMPUTED: string[] = [];
for (let i = 0; i < PRECOMPUTED_COUNT; i++) {
  PRECOMPUTED.push(i < GREETING.length ? GREETING[i] : FILLER[(i - GREETING.length) % FILLER.length]);
}

function tokenLimit(body: Record<string, unknown>): number | undefined {
  const limit = body.max_completion_tokens ?? body.max_tokens;
  return typeof limit === "number" && Number.isFinite(limit) && limit >= 0 ? Math.floor(limit) : undefined;
}

/** At most MAX_REPLY_TOKENS: a caller passing more gets a RangeError, not a reply it cannot hold. */
export function replyTokens(body: Record<string, unknown>, count: number = DEFAULT_COUNT): string[] {
  let n = Math.max(0, Math.floor(count));
  if (!(n <= MAX_REPLY_TOKENS)) throw new RangeError(`a reply of ${count} tokens is more than the ${MAX_REPLY_TOKENS} allowed`);
  const limit = tokenLimit(body);
  if (limit !== undefined && limit < n) n = limit;
  if (n <= PRECOMPUTED_COUNT) return PRECOMPUTED.slice(0, n);
  const out = PRECOMPUTED.slice();
  for (let i = PRECOMPUTED_COUNT; i < n; i++) {
    out.push(FILLER[(i - GREETING.length) % FILLER.length]);
  }
  return out;
}

/** "length" when the client's token limit is what ended the reply, as OpenAI reports it. */
export function finishReason(body: Record<string, unknown>, tokens: string[]): "stop" | "length" {
  const limit = tokenLimit(body);
  return limit !== undefined && tokens.length >= limit ? "length" : "stop";
}

function contentChars(content: unknown): number {
  if (typeof content === "string") return content.length;
  if (Array.isArray(content)) {
    let n = 0;
    for (const part of content) {
      if (typeof part === "string") n += part.length;
      else if (part !== null && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") {
        n += (part as { text: string }).text.length;
      } else if (typeof part === "number") n += 4; // a pre-tokenised prompt: one token each
    }
    return n;
  }
  return 0;
}

/** A rough token count (four characters a token), never below one, as real usage never is. */
export function promptTokens(body: Record<string, unknown>): number {
  let chars = 0;
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (m !== null && typeof m === "object") chars += contentChars((m as { content?: unknown }).content);
    }
  }
  if (body.prompt !== undefined) chars += contentChars(body.prompt);
  if (body.input !== undefined) chars += contentChars(body.input);
  return Math.max(1, Math.ceil(chars / 4));
}

function usage(body: Record<string, unknown>, tokens: string[]) {
  const prompt = promptTokens(body);
  return { prompt_tokens: prompt, completion_tokens: tokens.length, total_tokens: prompt + tokens.length };
}

function wantsUsage(body: Record<string, unknown>): boolean {
  const opts = body.stream_options;
  return opts !== null && typeof opts === "object" && (opts as { include_usage?: unknown }).include_usage === true;
}

export function chatCompletion(body: Record<string, unknown>, tokens: string[], meta: WireMeta): object {
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: tokens.join(""), refusal: null },
        logprobs: null,
        finish_reason: finishReason(body, tokens),
      },
    ],
    usage: usage(body, tokens),
  };
}

export const DONE_EVENT = "data: [DONE]\n\n";

/**
 * Shared shape of both streaming formats: an envelope serialised once, then
 * one event per choice payload, a finish event, the optional usage event and [DONE].
 */
function streamEvents(
  object: string,
  body: Record<string, unknown>,
  tokens: string[],
  meta: WireMeta,
  choice: (text: string | null, finish: string | null) => string,
  first: string | null,
): string[] {
  const withUsage = wantsUsage(body);
  // OpenAI sends "usage": null on every chunk but the last when usage was asked for.
  const tail = withUsage ? '],"usage":null}\n\n' : "]}\n\n";
  const head =
    `data: {"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},` +
    `"model":${JSON.stringify(meta.model)},"choices":[`;
  const events: string[] = [];
  if (first !== null) events.push(head + first + tail);
  for (const t of tokens) events.push(head + choice(t, null) + tail);
  events.push(head + choice(null, finishReason(body, tokens)) + tail);
  if (withUsage) events.push(`${head}],"usage":${JSON.stringify(usage(body, tokens))}}\n\n`);
  events.push(DONE_EVENT);
  return events;
}

export function chatChunkEvents(body: Record<string, unknown>, tokens: string[], meta: WireMeta): string[] {
  return streamEvents(
    "chat.completion.chunk",
    body,
    tokens,
    meta,
    (text, finish) =>
      text !== null
        ? `{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}`
        : `{"index":0,"delta":{},"logprobs":null,"finish_reason":"${finish}"}`,
    '{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}',
  );
}

export function textCompletion(body: Record<string, unknown>, tokens: string[], meta: WireMeta): object {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ text: tokens.join(""), index: 0, logprobs: null, finish_reason: finishReason(body, tokens) }],
    usage: usage(body, tokens),
  };
}

export function textCompletionEvents(body: Record<string, unknown>, tokens: string[], meta: WireMeta): string[] {
  return streamEvents(
    "text_completion",
    body,
    tokens,
    meta,
    (text, finish) =>
      `{"text":${JSON.stringify(text ?? "")},"index":0,"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`}}`,
    null,
  );
}

/** FNV-1a: tiny, dependency-free and stable across runs, which is all a fake vector needs. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function vector(seed: number, dims: number): number[] {
  // mulberry32, so each input gets its own well-spread sequence from its hash
  let s = seed;
  const v: number[] = new Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const x = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) v[i] *= scale;
  return v;
}

/** Splits `input` into the individual items OpenAI embeds; undefined when the shape is not one it accepts. */
export function embeddingInputs(input: unknown): Array<string | number[]> | undefined {
  if (typeof input === "string") return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((x) => typeof x === "number")) return [input as number[]];
  if (input.every((x) => typeof x === "string" || (Array.isArray(x) && x.every((n) => typeof n === "number")))) {
    return input as Array<string | number[]>;
  }
  return undefined;
}

export const DEFAULT_DIMENSIONS = 8;

/**
 * Callers are meant to check `dimensions` first (the mock answers a 400);
 * past the limits this throws a RangeError before allocating anything.
 */
export function embeddings(body: Record<string, unknown>, meta: { model: string }): object {
  const inputs = embeddingInputs(body.input) ?? [];
  const dims =
    typeof body.dimensions === "number" && Number.isInteger(body.dimensions) && body.dimensions > 0
      ? body.dimensions
      : DEFAULT_DIMENSIONS;
  if (dims > MAX_DIMENSIONS || inputs.length * dims > MAX_EMBEDDING_VALUES) {
    throw new RangeError(`${inputs.length} embeddings of ${dims} dimensions is more than allowed (${MAX_DIMENSIONS} dimensions, ${MAX_EMBEDDING_VALUES} values)`);
  }
  // The official SDK asks for base64 (little-endian float32) unless told otherwise.
  const base64 = body.encoding_format === "base64";
  let promptTotal = 0;
  const data = inputs.map((item, index) => {
    const key = typeof item === "string" ? item : item.join(",");
    promptTotal += typeof item === "string" ? Math.max(1, Math.ceil(item.length / 4)) : item.length;
    const v = vector(hash(key), dims);
    const embedding = base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v;
    return { object: "embedding", index, embedding };
  });
  return {
    object: "list",
    data,
    model: meta.model,
    usage: { prompt_tokens: promptTotal, total_tokens: promptTotal },
  };
}

export function modelList(names: string[], created: number = 1_700_000_000): object {
  return {
    object: "list",
    data: names.map((id) => ({ id, object: "model", created, owned_by: "switchyard-mock" })),
  };
}

/** OpenAI's error envelope; `param` is always present (null) in real responses. */
export function errorBody(message: string, type: string, code: string | null, param: string | null = null): object {
  return { error: { message, type, param, code } };
}
