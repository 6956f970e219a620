/**
 * OpenAI wire payloads for the mock upstream, also exported for tests that
 * build expected bytes. Pure functions only. Streaming events are built by
 * string concatenation around a once-serialised envelope because benchmarks
 * call these at tens of thousands of requests per second.
 */

import { MAX_DIMENSIONS, MAX_EMBEDDING_VALUES, MAX_REPLY_TOKENS } from "./limits.ts";
import { argumentPieces, type ToolCall } from "./openai-tools.ts";

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

function usage(body: Record<string, unknown>, completion: number, reasoning = 0) {
  const prompt = promptTokens(body);
  const u: Record<string, unknown> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (reasoning > 0) u.completion_tokens_details = { reasoning_tokens: reasoning };
  return u;
}

function wantsUsage(body: Record<string, unknown>): boolean {
  const opts = body.stream_options;
  return opts !== null && typeof opts === "object" && (opts as { include_usage?: unknown }).include_usage === true;
}

/** What a chat answer holds besides text (see openai-tools.ts): reasoning before it, tool calls in its place. */
export interface ChatExtras {
  reasoning?: string[];
  toolCalls?: ToolCall[];
}

/** Completion tokens of an answer: its text, reasoning, and each call's argument pieces plus one. */
function completionCount(tokens: string[], extras: ChatExtras): number {
  const calls = extras.toolCalls ?? [];
  return tokens.length + (extras.reasoning?.length ?? 0) + calls.reduce((n, c) => n + argumentPieces(c.arguments).length + 1, 0);
}

export function chatCompletion(body: Record<string, unknown>, tokens: string[], meta: WireMeta, extras: ChatExtras = {}): object {
  const calls = extras.toolCalls ?? [];
  const reasoning = extras.reasoning ?? [];
  const message: Record<string, unknown> = { role: "assistant", content: calls.length > 0 ? null : tokens.join("") };
  if (reasoning.length > 0) message.reasoning_content = reasoning.join("");
  if (calls.length > 0) message.tool_calls = calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  message.refusal = null;
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: calls.length > 0 ? "tool_calls" : finishReason(body, tokens) }],
    usage: usage(body, completionCount(tokens, extras), reasoning.length),
  };
}

export const DONE_EVENT = "data: [DONE]\n\n";

/**
 * Shared shape of both streaming formats: an envelope serialised once, then
 * one event per choice payload (`first`, then the paced ones), a finish
 * event, the optional usage event and [DONE].
 */
function streamEvents(
  object: string,
  body: Record<string, unknown>,
  meta: WireMeta,
  first: string | null,
  paced: string[],
  finish: string,
  completionUsage: () => object,
): string[] {
  const withUsage = wantsUsage(body);
  // OpenAI sends "usage": null on every chunk but the last when usage was asked for.
  const tail = withUsage ? '],"usage":null}\n\n' : "]}\n\n";
  const head =
    `data: {"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},` +
    `"model":${JSON.stringify(meta.model)},"choices":[`;
  const events: string[] = [];
  if (first !== null) events.push(head + first + tail);
  for (const c of paced) events.push(head + c + tail);
  events.push(head + finish + tail);
  if (withUsage) events.push(`${head}],"usage":${JSON.stringify(completionUsage())}}\n\n`);
  events.push(DONE_EVENT);
  return events;
}

const chatDelta = (delta: object): string => `{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":null}`;

/** A call's first chunk: its index, id and name, with empty arguments. */
const callStart = (c: ToolCall, index: number) => ({ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } });

/** The events of a streamed chat answer, and how many of them after the first are paced like tokens. */
export function chatStream(body: Record<string, unknown>, tokens: string[], meta: WireMeta, extras: ChatExtras = {}): { events: string[]; paced: number } {
  const calls = extras.toolCalls ?? [];
  const reasoning = extras.reasoning ?? [];
  const paced: string[] = reasoning.map((r) => chatDelta({ reasoning_content: r }));
  let first = '{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}';
  if (calls.length === 0) {
    for (const t of tokens) paced.push(`{"index":0,"delta":{"content":${JSON.stringify(t)}},"logprobs":null,"finish_reason":null}`);
  } else {
    // As OpenAI streams them: the first call starts in the role's chunk (unless reasoning comes first), each call names itself before its arguments arrive in pieces.
    first = chatDelta(reasoning.length === 0 ? { role: "assistant", content: null, tool_calls: [callStart(calls[0], 0)], refusal: null } : { role: "assistant", content: null });
    calls.forEach((c, i) => {
      if (i > 0 || reasoning.length > 0) paced.push(chatDelta({ tool_calls: [callStart(c, i)] }));
      for (const piece of argumentPieces(c.arguments)) paced.push(chatDelta({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
    });
  }
  const finish = `{"index":0,"delta":{},"logprobs":null,"finish_reason":"${calls.length > 0 ? "tool_calls" : finishReason(body, tokens)}"}`;
  const events = streamEvents("chat.completion.chunk", body, meta, first, paced, finish, () => usage(body, completionCount(tokens, extras), reasoning.length));
  return { events, paced: paced.length };
}

export function chatChunkEvents(body: Record<string, unknown>, tokens: string[], meta: WireMeta, extras: ChatExtras = {}): string[] {
  return chatStream(body, tokens, meta, extras).events;
}

export function textCompletion(body: Record<string, unknown>, tokens: string[], meta: WireMeta): object {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ text: tokens.join(""), index: 0, logprobs: null, finish_reason: finishReason(body, tokens) }],
    usage: usage(body, tokens.length),
  };
}

export function textCompletionEvents(body: Record<string, unknown>, tokens: string[], meta: WireMeta): string[] {
  const choice = (text: string, finish: string | null) =>
    `{"text":${JSON.stringify(text)},"index":0,"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`}}`;
  return streamEvents(
    "text_completion",
    body,
    meta,
    null,
    tokens.map((t) => choice(t, null)),
    choice("", finishReason(body, tokens)),
    () => usage(body, tokens.length),
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
