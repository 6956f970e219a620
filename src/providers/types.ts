import type { ProviderConfig } from "../config/types.ts";
import type { GatewayError } from "../protocol/errors.ts";

/** The OpenAI-shaped operations the gateway serves. */
export type Operation = "chat" | "completions" | "embeddings";

/** One upstream HTTP call, as the adapter wants it sent. */
export interface UpstreamCall {
  method: "POST" | "GET";
  /** Path relative to the provider's origin, including the base URL's path prefix. */
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

/**
 * A provider adapter translates requests into the provider's wire format and
 * classifies its errors. It does nothing else: no I/O, no retries, no state.
 */
export interface ProviderAdapter {
  readonly type: string;
  /** Builds the call for one attempt. Must be pure: it runs again on retry. */
  buildCall(op: Operation, body: Record<string, unknown>, upstreamModel: string, provider: PreparedProvider): UpstreamCall;
  /** The token-free request used by health checks. */
  probeCall(provider: PreparedProvider): UpstreamCall;
  /** Turns a non-2xx response into a classified error. */
  classifyStatus(failure: UpstreamFailure, now: number): GatewayError;
  /**
   * Classifies the error a stream's first event carries (given the event's
   * parsed JSON) as `classifyStatus` would the same error sent as a status, so
   * that a refused key is not retried while an overload is; undefined when the
   * event is no error.
   */
  classifyStreamError(payload: unknown): GatewayError | undefined;
}

/** A provider's config with what every request needs computed once. */
export interface PreparedProvider {
  config: ProviderConfig;
  origin: string;
  /** The base URL's path without a trailing slash, e.g. "/v1". */
  pathPrefix: string;
  /** Headers sent on every call: auth, content type and the configured extras. */
  baseHeaders: Record<string, string>;
}
