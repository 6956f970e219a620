/**
 * A codec speaks one wire API on the gateway's behalf, on either side:
 * towards a provider (encode the internal request, decode the answer and its
 * stream) and towards a client (decode its request, encode the answer and
 * its stream). Providers and fronts that speak the same API share one codec.
 * Codecs are pure: no I/O, no clock, no state beyond one stream's decoder.
 */
import type { ChatRequest, ChatResult, StreamPart, Usage } from "../protocol/chat.ts";
import type { GatewayError } from "../protocol/errors.ts";

/** Classifies an error event's payload the way the provider means it (the provider adapter's classifyStreamError). */
export type ClassifyStreamError = (payload: unknown) => GatewayError | undefined;

/** The wire APIs of the chat kind. */
export type ChatApi = "openai-chat" | "anthropic" | "gemini" | "openai-responses";

/** What a front's encoder needs to know of the answer it writes. */
export interface AnswerContext {
  /** The model name to report: the one the client asked for. */
  model: string;
  /** A fresh random id (hex) for the answer: each encoder prefixes it its own way (chatcmpl-, msg_, resp_). */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The client asked for usage in the stream (OpenAI's stream_options.include_usage). */
  includeUsage: boolean;
}

/**
 * Turns one upstream stream into parts. A fresh one per attempt, so a retry
 * starts from a clean state. It must tolerate events split anywhere across
 * chunks (UTF-8 characters included), skip event types it does not know, and
 * throw a GatewayError for an error event (classified, so the engine knows
 * whether to retry before anything was sent) or malformed data.
 */
export interface StreamDecoder {
  push(chunk: Uint8Array): StreamPart[];
  /** The upstream closed the stream: returns the last parts, or throws when it was cut off mid-answer. */
  end(): StreamPart[];
}

/** Writes parts as a client's stream events. One per answer. */
export interface StreamEncoder {
  /** The SSE text for these parts; may be empty. */
  encode(parts: StreamPart[]): string;
  /** What closes a complete stream (OpenAI's `data: [DONE]`, Anthropic's message_stop …). */
  end(): string;
}

/** Reads usage out of a stream that passes through untouched, without changing a byte. */
export interface UsageTap {
  push(chunk: Uint8Array): void;
  usage(): Usage | undefined;
}

/** A chat-kind wire API, provider side and client side. A codec may leave out the side it is never used on. */
export interface ChatCodec {
  readonly api: ChatApi;
  /** Provider side: the internal request as this API's request body, for upstream model `model`. */
  encodeRequest?(req: ChatRequest, model: string): Record<string, unknown>;
  /** Provider side: a whole answer (parsed JSON) into a ChatResult; throws SY_ERR_UPSTREAM_MALFORMED when it is not one. */
  decodeResponse?(body: unknown): ChatResult;
  streamDecoder?(classify: ClassifyStreamError): StreamDecoder;
  /** Client side: a request body into the internal request; throws SY_ERR_BAD_REQUEST naming the field. */
  decodeRequest?(body: Record<string, unknown>): ChatRequest;
  encodeResponse?(result: ChatResult, ctx: AnswerContext): Record<string, unknown>;
  streamEncoder?(ctx: AnswerContext): StreamEncoder;
  /** Passthrough: usage of a whole answer in this API, when it says. */
  usageOf?(body: unknown): Usage | undefined;
  usageTap?(): UsageTap;
}
