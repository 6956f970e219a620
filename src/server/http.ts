import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Engine } from "../engine/gateway.ts";
import { type GatewayResult, type Logger, silentLogger } from "../engine/types.ts";
import { GatewayError, isGatewayError } from "../protocol/errors.ts";
import type { Operation } from "../providers/types.ts";
import { parseJson, readBody } from "./body.ts";
import { openaiErrorBody } from "./errors.ts";
import { writeStream } from "./stream.ts";

/** `controller` aborts, with SY_ERR_CLIENT_ABORT, when the client leaves before the response is done. */
type Handler = (req: IncomingMessage, res: ServerResponse, requestId: string, controller: AbortController) => Promise<void>;

interface RouteEntry {
  methods: Record<string, Handler>;
  allow: string;
}

const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The HTTP front: a thin layer that turns requests into engine calls and
 * engine results (or errors) into OpenAI-shaped responses.
 */
export function createHttpServer(engine: Engine, logger: Logger = silentLogger): Server {
  const maxBody = engine.config.server.maxBody;
  const modelsBody = Buffer.from(
    JSON.stringify({
      object: "list",
      data: engine.routes.names().map((id) => ({ id, object: "model", created: 0, owned_by: "switchyard" })),
    }),
  );
  const startedAt = Date.now();

  const api = (op: Operation): Handler => async (req, res, requestId, controller) => {
    // Read and parsed inside the call, so that no local holds the body for a stream's whole life.
    const result = await engine.handle(op, parseJson(await readBody(req, maxBody)), { requestId, controller });
    await send(res, result);
  };

  const routes = new Map<string, RouteEntry>();
  const add = (path: string, methods: Record<string, Handler>) => routes.set(path, { methods, allow: Object.keys(methods).join(", ") });
  for (const prefix of ["/v1", ""]) {
    add(`${prefix}/chat/completions`, { POST: api("chat") });
    add(`${prefix}/completions`, { POST: api("completions") });
    add(`${prefix}/embeddings`, { POST: api("embeddings") });
    add(`${prefix}/models`, {
      GET: async (_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": modelsBody.length });
        res.end(modelsBody);
      },
    });
  }
  add("/health", {
    GET: async (_req, res) => json(res, 200, { status: "ok", uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
  });
  add("/health/upstream", {
    GET: async (_req, res) => {
      const providers = await engine.providerHealth();
      const all = Object.values(providers);
      const up = all.filter((p) => p.reachable).length;
      const status = up === all.length ? "ok" : up > 0 ? "degraded" : "down";
      json(res, status === "down" ? 503 : 200, { status, providers });
    },
  });

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const sent = req.headers["x-request-id"];
    const requestId = typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    res.setHeader("x-request-id", requestId);
    const q = req.url!.indexOf("?");
    const path = q === -1 ? req.url! : req.url!.slice(0, q);
    const route = routes.get(path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path);
    let handler: Handler | undefined;
    if (route === undefined) {
      fail(res, new GatewayError("SY_ERR_NOT_FOUND", `no route for ${req.method} ${path}`));
    } else if ((handler = route.methods[req.method!]) === undefined) {
      res.setHeader("allow", route.allow);
      fail(res, new GatewayError("SY_ERR_METHOD_NOT_ALLOWED", `method ${req.method} is not allowed on ${path}; use ${route.allow}`));
    } else {
      const controller = new AbortController();
      res.once("close", () => {
        if (!res.writableFinished) controller.abort(new GatewayError("SY_ERR_CLIENT_ABORT", "client closed the connection"));
        // While stopping, a connection whose response has ended is closed instead of kept alive.
        else if (!server.listening) setImmediate(() => server.closeIdleConnections());
      });
      handler(req, res, requestId, controller).catch((err: unknown) => {
        const e = isGatewayError(err) ? err : new GatewayError("SY_ERR_INTERNAL", "internal error", { cause: err });
        if (!isGatewayError(err)) logger.error({ reqId: requestId, err }, "unhandled error");
        fail(res, e);
      });
    }
  });
  server.on("clientError", (err, socket) => {
    // Only answer when no response is under way on this socket, or the 400 would land inside it.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    } else socket.destroy(err);
  });
  return server;
}

async function send(res: ServerResponse, result: GatewayResult): Promise<void> {
  const headers: Record<string, string | number> = {
    "content-type": result.contentType,
    "x-switchyard-target": result.target,
    "x-switchyard-attempts": result.attempts.length,
  };
  if (result.stream === undefined) {
    headers["content-length"] = result.body!.length;
    res.writeHead(result.status, headers);
    res.end(result.body);
    return;
  }
  headers["cache-control"] = "no-cache";
  await writeStream(res, result.status, headers, result.stream);
}

function fail(res: ServerResponse, err: GatewayError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const attempts = err.attempts ?? [];
  const last = attempts.at(-1);
  if (last !== undefined) res.setHeader("x-switchyard-target", last.target);
  res.setHeader("x-switchyard-attempts", attempts.length);
  if (err.code === "SY_ERR_BODY_TOO_LARGE") res.setHeader("connection", "close");
  const status = err.code === "SY_ERR_CLIENT_ABORT" ? 499 : err.status;
  const body = openaiErrorBody(err);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Closes the server and every connection at once; `shutdown()` (shutdown.ts) is the graceful way. */
  close(): Promise<void>;
}

/** Listens and resolves once the port is bound. `reusePort` lets several workers bind the same port. */
export function listen(server: Server, host: string, port: number, opts: { reusePort?: boolean } = {}): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, reusePort: opts.reusePort === true }, () => {
      server.off("error", reject);
      const addr = server.address() as AddressInfo;
      const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${shownHost}:${addr.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
