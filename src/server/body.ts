import type { IncomingMessage } from "node:http";
import type { Readable, Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { GatewayError } from "../protocol/errors.ts";

/**
 * API bodies must say they are JSON. Besides naming the problem for a client
 * that forgot the header, this keeps web pages out: a cross-site form or
 * `text/plain` POST needs no CORS preflight, and would otherwise spend tokens
 * through a gateway on localhost.
 */
export function requireJson(req: IncomingMessage): void {
  const type = req.headers["content-type"];
  if (type === "application/json") return;
  const media = type?.split(";", 1)[0].trim().toLowerCase();
  if (media === "application/json") return;
  throw new GatewayError(
    "SY_ERR_UNSUPPORTED_MEDIA_TYPE",
    type === undefined
      ? "missing content-type: send the body as JSON with 'content-type: application/json'"
      : `content-type "${media?.slice(0, 100)}" is not supported: send the body as JSON with 'content-type: application/json'`,
  );
}

const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip(),
  "x-gzip": () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/**
 * Reads a request body, refusing anything larger than `max` bytes before it
 * is buffered. A gzip, deflate or br body is decompressed as it arrives and
 * `max` applies to what it decompresses to, so a small zip bomb gets a 413
 * after at most `max` bytes of output.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const raw = req.headers["content-encoding"];
  const encoding = raw === undefined ? "" : raw.trim().toLowerCase();
  const declared = Number(req.headers["content-length"]);
  if (declared > max) return Promise.reject(tooLarge(max));
  if (encoding === "" || encoding === "identity") return collect(req, max, req);
  const decoder = DECODERS[encoding];
  if (decoder === undefined) {
    return Promise.reject(
      new GatewayError(
        "SY_ERR_UNSUPPORTED_MEDIA_TYPE",
        `content-encoding "${encoding.slice(0, 50)}" is not supported; send the body uncompressed, or as gzip, deflate or br`,
      ),
    );
  }
  const inflate = decoder();
  // The compressed bytes count too: empty gzip members decompress to nothing, forever.
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > max) inflate.destroy(tooLarge(max));
  });
  req.pipe(inflate);
  return collect(inflate, max, req).catch((err: unknown) => {
    req.unpipe(inflate);
    req.resume();
    inflate.destroy();
    if (err instanceof GatewayError) throw err;
    throw new GatewayError("SY_ERR_INVALID_JSON", `request body is not valid ${encoding} data: ${(err as Error).message}`);
  });
}

/** Buffers `source` up to `max` bytes; `req` is the request it comes from, drained when the limit is hit. */
function collect(source: Readable, max: number, req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        if (source !== req) req.unpipe();
        req.resume();
        reject(tooLarge(max));
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new GatewayError("SY_ERR_CLIENT_ABORT", `client aborted while sending the body: ${err.message}`));
    };
    const onClose = () => {
      if (!req.complete) onError(new Error("connection closed"));
    };
    // A decoder's own error is bad data, not a client that left.
    const onDecodeError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      source.off("data", onData);
      source.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (source !== req) source.off("error", onDecodeError);
    };
    source.on("data", onData);
    source.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
    if (source !== req) source.on("error", onDecodeError);
  });
}

function tooLarge(max: number): GatewayError {
  return new GatewayError("SY_ERR_BODY_TOO_LARGE", `request body exceeds the limit of ${max} bytes (server.max_body)`);
}

/** Parses a JSON body, naming where it broke. */
export function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) throw new GatewayError("SY_ERR_INVALID_JSON", "request body is empty; expected a JSON object");
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch (err) {
    throw new GatewayError("SY_ERR_INVALID_JSON", `request body is not valid JSON: ${(err as Error).message}`);
  }
}
