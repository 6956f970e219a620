import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import { brotliCompress, constants, deflate, gzip } from "node:zlib";
import type { CompressionConfig } from "../config/types.ts";

const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);
const brotliAsync = promisify(brotliCompress);

export type Encoding = "gzip" | "br" | "deflate";

/**
 * The encoding to answer with, from the client's Accept-Encoding: gzip first
 * (cheap and universal), then br, then deflate. An encoding given q=0 is
 * refused. Undefined means send the body as it is.
 */
export function negotiate(req: IncomingMessage): Encoding | undefined {
  const header = req.headers["accept-encoding"];
  if (header === undefined || header === "") return undefined;
  const accepted = new Set<string>();
  for (const part of header.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    accepted.add(name.trim());
  }
  for (const e of ["gzip", "br", "deflate"] as const) if (accepted.has(e)) return e;
  return undefined;
}

/** Compresses a whole body off the main thread (zlib's pool), at speed-minded levels: the gateway is not a CDN. */
export function compress(body: Buffer, encoding: Encoding): Promise<Buffer> {
  if (encoding === "gzip") return gzipAsync(body, { level: 5 });
  if (encoding === "deflate") return deflateAsync(body, { level: 5 });
  return brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
}

/** Whether a whole body of this size is worth compressing for this client. */
export function worthCompressing(config: CompressionConfig | undefined, size: number): config is CompressionConfig {
  return config !== undefined && size >= config.minSize;
}
