/** Small HTTP helpers shared by the HTTP-front tests: raw requests, raw sockets, free ports. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type IncomingHttpHeaders, request } from "node:http";
import { connect, createServer, type AddressInfo } from "node:net";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** Sent in one piece (node adds content-length unless a header says otherwise). */
  body?: string | Buffer;
  /** Sent piece by piece without content-length, i.e. chunked transfer encoding. */
  chunks?: Array<string | Buffer>;
}

/**
 * One request over a fresh connection with node:http, which (unlike fetch)
 * lets a test choose any method, send chunked bodies and read a response the
 * server sends before it has read the whole body.
 */
export function rawRequest(base: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString("utf8") }));
      res.on("error", reject);
    });
    // The server may answer (413) and close before it has taken the whole body; the response still counts.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
    if (opts.chunks !== undefined) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}

/** Writes raw bytes on a TCP connection and resolves with everything received until the server closes it. */
export async function rawSocket(base: string, bytes: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  await once(socket, "connect");
  const parts: Buffer[] = [];
  socket.on("data", (c: Buffer) => parts.push(c));
  socket.on("error", () => {});
  socket.write(bytes);
  await once(socket, "close");
  return Buffer.concat(parts).toString("latin1");
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  // Below the kernel's ephemeral range (32768 and up on Linux), so that no
  // server listening on port 0 and no outgoing connection can take it later.
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (!ok) continue;
    server.close();
    await once(server, "close");
    return port;
  }
}

export interface OpenAIErrorShape {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
  [extra: string]: unknown;
}

/** Parses an OpenAI-shaped error body, asserting the shape: `{error:{message,type,code,param}}`. */
export function openaiError(text: string): OpenAIErrorShape {
  const body = JSON.parse(text) as { error?: OpenAIErrorShape };
  assert.ok(body.error !== null && typeof body.error === "object", `not an OpenAI error body: ${text}`);
  const e = body.error;
  assert.equal(typeof e.message, "string", `error.message: ${text}`);
  assert.ok(e.message.length > 0, "error.message is empty");
  assert.equal(typeof e.type, "string", `error.type: ${text}`);
  assert.ok("code" in e, `error.code missing: ${text}`);
  assert.ok("param" in e, `error.param missing: ${text}`);
  assert.ok(e.param === null || typeof e.param === "string", `error.param: ${text}`);
  return e;
}
