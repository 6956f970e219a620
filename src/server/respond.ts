import type { IncomingMessage, ServerResponse } from "node:http";
import type { CompressionConfig } from "../config/types.ts";
import type { GatewayResult } from "../engine/types.ts";
import { GatewayError } from "../protocol/errors.ts";
import { compress, negotiate, worthCompressing } from "./compress.ts";
import { type ErrorShape, openaiShape } from "./shapes.ts";
import { writeStream } from "./stream.ts";

/** Visible ASCII, space and tab: what a header value may hold without being refused or split. */
const HEADER_SAFE = /^[\t\x20-\x7e]*$/;

/**
 * A value fit for a response header. The gateway's own values (target labels
 * built from the config and validated model names) always are; anything else
 * is percent-encoded rather than allowed to make `setHeader` throw.
 */
export function headerValue(v: string): string {
  return HEADER_SAFE.test(v) ? v : encodeURIComponent(v);
}

/**
 * Writes a whole body, compressed when the client accepts it and it is large
 * enough to be worth it. Small bodies (most errors, short answers) go out at
 * once, with no extra work.
 */
export async function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body: Buffer,
  compression: CompressionConfig | undefined,
): Promise<void> {
  if (worthCompressing(compression, body.length)) {
    const vary = res.getHeader("vary");
    headers.vary = vary === undefined ? "Accept-Encoding" : `${String(vary)}, Accept-Encoding`;
    const encoding = negotiate(req);
    if (encoding !== undefined) {
      body = await compress(body, encoding);
      headers["content-encoding"] = encoding;
    }
  }
  headers["content-length"] = body.length;
  res.writeHead(status, headers);
  res.end(body);
}

export async function sendResult(
  req: IncomingMessage,
  res: ServerResponse,
  result: GatewayResult,
  compression: CompressionConfig | undefined,
  shape: ErrorShape,
  /** The request's id, when none was set on the response ahead (the routes of the client APIs). */
  requestId?: string,
): Promise<void> {
  const headers: Record<string, string | number> = {
    "content-type": result.contentType,
    "x-switchyard-target": headerValue(result.target),
    "x-switchyard-attempts": result.attempts.length,
  };
  if (requestId !== undefined) headers["x-request-id"] = requestId;
  if (result.cache !== undefined) {
    headers["x-switchyard-cache"] = result.cache.status;
    if (result.cache.age !== undefined) headers.age = result.cache.age;
  }
  if (result.stream === undefined) return sendBody(req, res, result.status, headers, result.body!, compression);
  headers["cache-control"] = "no-cache";
  await writeStream(res, result.status, headers, result.stream, shape, compression);
}

/**
 * Answers with an error in OpenAI's shape, or, once a response is under way,
 * ends it. It never throws: it is what runs when everything else went wrong.
 */
export function fail(res: ServerResponse, err: GatewayError, shape: ErrorShape = openaiShape): void {
  try {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    const attempts = err.attempts ?? [];
    const last = attempts.at(-1);
    if (last !== undefined) res.setHeader("x-switchyard-target", headerValue(last.target));
    res.setHeader("x-switchyard-attempts", attempts.length);
    if (err.code === "SY_ERR_BODY_TOO_LARGE") res.setHeader("connection", "close");
    if (err.code === "SY_ERR_UNAUTHORIZED" && !res.hasHeader("www-authenticate")) res.setHeader("www-authenticate", 'Bearer realm="switchyard"');
    const status = err.code === "SY_ERR_CLIENT_ABORT" ? 499 : err.status;
    // Whole seconds, rounded up: a client that waits that long finds room.
    if (err.retryAfterMs !== undefined && Number.isFinite(err.retryAfterMs) && (status === 429 || status === 503)) res.setHeader("retry-after", Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    const body = shape.body(err);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  } catch {
    res.destroy();
  }
}

export function json(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Anything thrown while serving a request becomes an error the client can read. */
export function toGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : new GatewayError("SY_ERR_INTERNAL", "internal error", { cause: err });
}
