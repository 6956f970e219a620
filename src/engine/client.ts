import { sseData } from "../protocol/sse.ts";
import type { Operation } from "../providers/types.ts";
import type { TraceHeaders } from "../telemetry/channels.ts";
import type { ProviderHealth } from "../upstream/health.ts";
import type { Engine } from "./gateway.ts";
import type { GatewayResult } from "./types.ts";

export type JsonObject = Record<string, unknown>;

export interface ChatMessage {
  role: string;
  content?: unknown;
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  model: string;
  choices: Array<{ index: number; message: ChatMessage; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  [key: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  model: string;
  choices: Array<{ index: number; delta: Partial<ChatMessage>; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  [key: string]: unknown;
}

/**
 * A streamed answer: an async iterable of parsed chunks, plus where it came
 * from. It holds an upstream call until it is read to the end or let go:
 * `break` or `return()`, `await using`, the call's `signal`, or no read for
 * the target's idle timeout (`SY_ERR_STREAM_ABANDONED`).
 */
export interface ChunkStream<T> extends AsyncIterable<T>, AsyncDisposable {
  target: string;
  attempts: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  requestId?: string;
  /** The caller's W3C trace context, the parent of the request's span when the config turns tracing on. */
  trace?: TraceHeaders;
}

type Create<Req, Res, Chunk> = {
  (body: Req & { stream: true }, opts?: CallOptions): Promise<ChunkStream<Chunk>>;
  (body: Req & { stream?: false | null }, opts?: CallOptions): Promise<Res>;
  (body: Req, opts?: CallOptions): Promise<Res | ChunkStream<Chunk>>;
};

export interface ChatRequest extends JsonObject {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
}

export interface CompletionRequest extends JsonObject {
  model: string;
  prompt: unknown;
  stream?: boolean | null;
}

export interface EmbeddingRequest extends JsonObject {
  model: string;
  input: unknown;
}

/** The in-process API: the same calls as the OpenAI SDK, served without HTTP. */
export interface Gateway {
  chat: { completions: { create: Create<ChatRequest, ChatCompletion, ChatCompletionChunk> } };
  completions: { create: Create<CompletionRequest, JsonObject, JsonObject> };
  embeddings: { create(body: EmbeddingRequest, opts?: CallOptions): Promise<JsonObject> };
  models: { list(): { object: "list"; data: Array<{ id: string; object: "model"; owned_by: string }> } };
  /** The raw engine call: bytes and routing metadata, as the HTTP front uses it. */
  request(op: Operation, body: unknown, opts?: CallOptions): Promise<GatewayResult>;
  health(): Promise<Record<string, ProviderHealth>>;
  readonly engine: Engine;
  close(): Promise<void>;
}

export function clientFor(engine: Engine): Gateway {
  const request = (op: Operation, body: unknown, opts: CallOptions = {}) =>
    engine.handle(op, body, { requestId: opts.requestId ?? engine.newRequestId(), signal: opts.signal, trace: opts.trace });
  const create =
    (op: Operation) =>
    async (body: JsonObject, opts?: CallOptions): Promise<never> => {
      const result = await request(op, body, opts);
      if (result.stream !== undefined) return chunks(result) as never;
      return JSON.parse(result.body!.toString("utf8")) as never;
    };
  return {
    chat: { completions: { create: create("chat") as Gateway["chat"]["completions"]["create"] } },
    completions: { create: create("completions") as Gateway["completions"]["create"] },
    embeddings: { create: create("embeddings") as Gateway["embeddings"]["create"] },
    models: {
      list: () => ({
        object: "list",
        data: engine.routes.names().map((id) => ({ id, object: "model" as const, owned_by: "switchyard" })),
      }),
    },
    request,
    health: () => engine.providerHealth(),
    engine,
    close: () => engine.close(),
  };
}

function chunks<T>(result: GatewayResult): ChunkStream<T> {
  return new Chunks<T>(result);
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The parsed chunks of a streamed answer. It takes hold of the byte stream at
 * once, so that the stream's own watch (the signal, the idle timeout) covers
 * a caller who never reads; a failure is the engine's GatewayError, thrown
 * after the chunks before it.
 */
class Chunks<T> implements ChunkStream<T>, AsyncIterator<T> {
  readonly target: string;
  readonly attempts: number;
  readonly #bytes: AsyncIterator<Uint8Array>;
  readonly #events: AsyncGenerator<string>;
  #used = false;
  /** "[DONE]" came: the answer is whole; what follows is read only so the upstream call ends cleanly. */
  #answered = false;

  constructor(result: GatewayResult) {
    this.target = result.target;
    this.attempts = result.attempts.length;
    const bytes = result.stream![Symbol.asyncIterator]();
    this.#bytes = bytes;
    this.#events = sseData({ [Symbol.asyncIterator]: () => bytes });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#used) throw new Error("a stream can be read only once");
    this.#used = true;
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      let r: IteratorResult<string>;
      try {
        r = await this.#events.next();
      } catch (err) {
        if (this.#answered) return DONE;
        throw err;
      }
      if (r.done) return DONE;
      if (this.#answered) continue;
      if (r.value === "[DONE]") {
        this.#answered = true;
        continue;
      }
      return { done: false, value: JSON.parse(r.value) as T };
    }
  }

  /** Lets go of the stream (`break`, `return()`): its upstream call is aborted unless it had ended. */
  async return(): Promise<IteratorResult<T>> {
    await this.#bytes.return?.();
    return DONE;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
