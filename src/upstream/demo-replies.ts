/**
 * What the demo provider answers, in OpenAI's wire format. Its own small
 * builders rather than the mock upstream's: the mock is a test tool tuned for
 * benchmarks and fault injection, and the product must not change when it does.
 * Pure functions of the request body and the given id, time and model.
 */

export interface ReplyMeta {
  id: string;
  created: number;
  model: string;
}

const WORDS = ["Hello", " from", " the", " Switchyard", " demo.", " The", " quick", " brown", " fox", " jumps", " over", " the"];
/** OpenAI's largest embedding size; more is refused as OpenAI refuses it. */
const MAX_DIMENSIONS = 3072;
const DEFAULT_DIMENSIONS = 8;

type Body = Record<string, unknown>;

function tokenLimit(body: Body): number | undefined {
  const limit = body.max_completion_tokens ?? body.max_tokens;
  return typeof limit === "number" && Number.isInteger(limit) && limit >= 0 ? limit : undefined;
}

/** The reply's tokens: the fixed sentence, cut at the client's token limit. */
export function replyTokens(body: Body): string[] {
  const limit = tokenLimit(body);
  return limit !== undefined && limit < WORDS.length ? WORDS.slice(0, limit) : WORDS;
}

function finishReason(body: Body, tokens: string[]): "stop" | "length" {
  const limit = tokenLimit(body);
  return limit !== undefined && tokens.length >= limit ? "length" : "stop";
}

function textLength(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (!Array.isArray(v)) return 0;
  let n = 0;
  for (const part of v) {
    if (typeof part === "string") n += part.length;
    else if (typeof part === "number") n += 4;
    else if (part !== null && typeof part === "object") n += textLength((part as { text?: unknown; content?: unknown }).text ?? (part as { content?: unknown }).content);
  }
  return n;
}

/** A rough count (four characters a token, at least one), as usage is never zero. */
function usage(body: Body, tokens: string[]) {
  const prompt = Math.max(1, Math.ceil(textLength(body.messages ?? body.prompt) / 4));
  return { prompt_tokens: prompt, completion_tokens: tokens.length, total_tokens: prompt + tokens.length };
}

export function chatCompletion(body: Body, meta: ReplyMeta): object {
  const tokens = replyTokens(body);
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [
      { index: 0, message: { role: "assistant", content: tokens.join(""), refusal: null }, logprobs: null, finish_reason: finishReason(body, tokens) },
    ],
    usage: usage(body, tokens),
  };
}

export function textCompletion(body: Body, meta: ReplyMeta): object {
  const tokens = replyTokens(body);
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ text: tokens.join(""), index: 0, logprobs: null, finish_reason: finishReason(body, tokens) }],
    usage: usage(body, tokens),
  };
}

/** A streamed reply as whole SSE events: chat chunks, or legacy completion chunks when `chat` is false. */
export function streamEvents(body: Body, meta: ReplyMeta, chat: boolean): string[] {
  const tokens = replyTokens(body);
  const opts = body.stream_options as { include_usage?: unknown } | null | undefined;
  const withUsage = opts !== null && typeof opts === "object" && opts.include_usage === true;
  const object = chat ? "chat.completion.chunk" : "text_completion";
  const event = (choices: object[], last = false) => {
    const chunk: Record<string, unknown> = { id: meta.id, object, created: meta.created, model: meta.model, choices };
    // OpenAI sends "usage": null on every chunk but the last when usage was asked for.
    if (withUsage) chunk.usage = last ? usage(body, tokens) : null;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  };
  const choice = (text: string | null, finish: string | null) =>
    chat
      ? { index: 0, delta: text === null ? {} : { content: text }, logprobs: null, finish_reason: finish }
      : { text: text ?? "", index: 0, logprobs: null, finish_reason: finish };
  const events: string[] = [];
  if (chat) events.push(event([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]));
  for (const t of tokens) events.push(event([choice(t, null)]));
  events.push(event([choice(null, finishReason(body, tokens))]));
  if (withUsage) events.push(event([], true));
  events.push("data: [DONE]\n\n");
  return events;
}

/** A stable unit vector per text: the same input always embeds the same way. */
function vector(text: string, dims: number): number[] {
  let s = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) s = Math.imul(s ^ text.charCodeAt(i), 0x01000193);
  const v: number[] = [];
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    // mulberry32, seeded by the text's FNV-1a hash
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const x = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    v.push(x);
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return v.map((x) => x * scale);
}

/** Embeddings, or an OpenAI-shaped error for a `dimensions` OpenAI would refuse. */
export function embeddings(body: Body, meta: { model: string }): { status: number; payload: object } {
  const dims = body.dimensions ?? DEFAULT_DIMENSIONS;
  if (typeof dims !== "number" || !Number.isInteger(dims) || dims < 1 || dims > MAX_DIMENSIONS) {
    const message = `dimensions must be an integer from 1 to ${MAX_DIMENSIONS}, got ${JSON.stringify(dims)}`;
    return { status: 400, payload: { error: { message, type: "invalid_request_error", param: "dimensions", code: "invalid_value" } } };
  }
  const inputs = Array.isArray(body.input) && !body.input.every((x) => typeof x === "number") ? body.input : [body.input];
  // The official SDK asks for base64 (little-endian float32) unless told otherwise.
  const base64 = body.encoding_format === "base64";
  let promptTokens = 0;
  const data = inputs.map((item, index) => {
    const text = typeof item === "string" ? item : JSON.stringify(item);
    promptTokens += Math.max(1, Math.ceil(text.length / 4));
    const v = vector(text, dims);
    return { object: "embedding", index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v };
  });
  return { status: 200, payload: { object: "list", data, model: meta.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } } };
}

export function modelList(names: string[]): object {
  return { object: "list", data: names.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "switchyard" })) };
}
