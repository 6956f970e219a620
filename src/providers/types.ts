import type { ChatApi, ClassifyStreamError } from "../codecs/types.ts";
import type { ProviderConfig } from "../config/types.ts";
import type { GatewayError } from "../protocol/errors.ts";

/**
 * The operations the gateway serves, named for the client API they arrive in.
 * Three are of the chat kind, each in its own client API: `chat` (OpenAI's
 * Chat Completions), `messages` (Anthropic's Messages), `responses` (OpenAI's
 * Responses); any of them can be served by any chat-capable provider.
 */
export type Operation = "chat" | "messages" | "responses" | "completions" | "embeddings";

/** The client API each chat-kind operation arrives in. */
export const FRONT_API: Partial<Record<Operation, ChatApi>> = { chat: "openai-chat", messages: "anthropic", responses: "openai-responses" };

/** One upstream HTTP call, as the adapter wants it sent. */
export interface UpstreamCall {
  method: "POST" | "GET";
  /** Path relative to the provider's origin, including the base URL's path prefix and any query. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What an adapter sees of an upstream failure. */
export interface UpstreamFailure {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Everything one attempt's call is built from. */
export interface CallSpec {
  /** The client's op when it passes through; `chat` when a chat-kind request was translated into the provider's API. */
  op: Operation;
  /** The request in the provider's own API: the client's body when it passes through, else the codec's encoding. */
  body: Record<string, unknown>;
  /** The upstream model name. */
  model: string;
  stream: boolean;
  provider: PreparedProvider;
  /** The headers of the key this attempt uses (one of provider.keyHeaders). */
  headers: Record<string, string>;
  /** Headers the client sent for an upstream of its own API, when the request passes through (anthropic-version, anthropic-beta). */
  passHeaders?: Record<string, string>;
}

/**
 * A provider adapter knows one kind of upstream: where its endpoints are,
 * how it takes a key, which wire API it speaks (the codec in src/codecs does
 * the translating) and what its errors mean. It does nothing else: no I/O,
 * no retries, no state.
 */
export interface ProviderAdapter {
  readonly type: string;
  /** The wire API its chat endpoint speaks. A client speaking the same API passes through untouched. */
  readonly chatApi: ChatApi;
  /** Whether it serves `op` at all (Anthropic has no embeddings); a target that does not is skipped with a 400. Chat-kind operations ask about "chat". */
  supports(op: Operation): boolean;
  /**
   * Other wire APIs this provider takes natively, so that a client speaking
   * one passes through (an OpenAI provider configured with `responses: true`
   * takes the Responses API). buildCall then gets the client's own op.
   */
  alsoSpeaks?(api: ChatApi, provider: PreparedProvider): boolean;
  /** Headers that carry one API key (`authorization: Bearer …`, `x-api-key: …`). */
  authHeaders(key: string): Record<string, string>;
  /** Headers every call carries before the configured ones (e.g. `anthropic-version`). */
  readonly defaultHeaders?: Readonly<Record<string, string>>;
  /** Builds the call for one attempt. Must be pure: it runs again on retry. */
  buildCall(spec: CallSpec): UpstreamCall;
  /**
   * For non-chat operations the adapter translates itself (Gemini's
   * embeddings): the request in the provider's API, and its answer back in
   * OpenAI's. Absent: the body and answer pass through.
   */
  translateOp?: {
    request(op: Operation, body: Record<string, unknown>, model: string): Record<string, unknown>;
    /** `request` is the client's own request (e.g. its encoding_format). */
    answer(op: Operation, body: unknown, model: string, request?: Record<string, unknown>): Record<string, unknown>;
  };
  /** The token-free request used by health checks and the model list. */
  probeCall(provider: PreparedProvider, headers: Record<string, string>): UpstreamCall;
  /** The model ids in a probe's answer; absent: OpenAI's list shape (`{"data":[{"id":…}]}`). */
  modelIds?(body: unknown): string[];
  /** Turns a non-2xx response into a classified error. */
  classifyStatus(failure: UpstreamFailure, now: number): GatewayError;
  /**
   * Classifies the error a stream's event carries (given the event's parsed
   * JSON) as `classifyStatus` would the same error sent as a status, so that
   * a refused key is not retried while an overload is; undefined when the
   * event is no error.
   */
  classifyStreamError: ClassifyStreamError;
}

/** A provider's config with what every request needs computed once. */
export interface PreparedProvider {
  config: ProviderConfig;
  origin: string;
  /** The base URL's path without a trailing slash, e.g. "/v1". */
  pathPrefix: string;
  /**
   * The headers of each configured key (content type, the adapter's defaults,
   * the key's auth headers, then the configured extras, which win); a
   * provider without a key has one set, without auth.
   */
  keyHeaders: Array<Record<string, string>>;
}
