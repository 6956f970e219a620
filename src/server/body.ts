import type { IncomingMessage } from "node:http";
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

/** Reads a request body, refusing anything larger than `max` bytes before it is buffered. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const raw = req.headers["content-encoding"];
  const encoding = raw === undefined ? "" : raw.trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity") {
    return Promise.reject(
      new GatewayError("SY_ERR_UNSUPPORTED_MEDIA_TYPE", `content-encoding "${encoding}" is not supported; send the JSON body uncompressed`),
    );
  }
  const declared = Number(req.headers["content-length"]);
  if (declared > max) return Promise.reject(tooLarge(max));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
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
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
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
