import type { IncomingMessage } from "node:http";
import { GatewayError } from "../protocol/errors.ts";

/** Reads a request body, refusing anything larger than `max` bytes before it is buffered. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
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
